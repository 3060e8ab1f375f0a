"""Secrets never reach a repr, an error message or stderr (R25); every failure is one line.

Covers the values that hold secrets (Profile, TokenData, Overrides, Resolved,
TokenResponse, PendingLogin), config errors that could quote a secret, and the CLI's
last-resort handler for unexpected exceptions.
"""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest
from click.testing import CliRunner

from service import cli as cli_module
from service.config_store import ConfigStore, parse_document
from service.environments import resolve
from service.errors import ConfigError, ConfigParseError, InvalidValueError
from service.logins import Overrides, Resolved
from service.oauth import TokenResponse, start_login
from service.profiles import GrantType, Profile, TokenData, profile_from_table

SECRET = "s3cr3t-VALUE-1234"


def test_reprs_hide_secrets():
    token = TokenData(SECRET, "bearer", 60, "", datetime.now(UTC) + timedelta(hours=1))
    profile = Profile(name="p", grant_type=GrantType.CLIENT_CREDENTIALS, client_id="cid", client_secret=SECRET,
                      access_token=SECRET, token_data=token, extra={"proxy_password": SECRET})
    pending = start_login(GrantType.PKCE, client_id="cid", redirect_uri="http://localhost:1",
                          endpoints=resolve("http://127.0.0.1:1"))
    values = [token, profile, Resolved(profile, True), Overrides(client_secret=SECRET, access_token=SECRET),
              TokenResponse(SECRET), pending]
    for value in values:
        text = repr(value) + str(value)
        assert SECRET not in text, type(value).__name__
    assert pending.state not in repr(pending) and pending.code_verifier not in repr(pending)
    assert "cid" in repr(profile)  # the non-secret parts are still there to debug with


@pytest.mark.parametrize("key", ["client_secret", "access_token"])
def test_wrong_typed_secret_is_not_quoted_in_the_error(key):
    with pytest.raises(InvalidValueError) as caught:
        profile_from_table("p", {key: 918273645})
    assert "918273645" not in str(caught.value)
    assert str(caught.value) == f"profile 'p': {key}: must be a string, not a TOML int (value not shown)"


def test_wrong_typed_non_secret_is_quoted_to_help():
    with pytest.raises(InvalidValueError, match="environment: must be a string, not 42"):
        profile_from_table("p", {"environment": 42})


@pytest.mark.parametrize("text, line", [
    ('[p]\nclient_secret = Zs3cr3t\n', 2),
    ('[p]\nclient_secret = "s3\\qcr3t"\n', 2),
    ('[p]\nclient_secret = "a"\nclient_secret = "b"\n', 3),
    ('[p]\naccess_token = "x" Zjunk\n', 2),
])
def test_parse_errors_name_file_and_line_but_quote_nothing(text, line, tmp_path):
    with pytest.raises(ConfigParseError) as caught:
        parse_document(text, tmp_path / "c.toml")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'c.toml'}: line {line}, column ")
    assert "'Z'" not in message and "'q'" not in message and "s3" not in message
    assert caught.value.line == line


def test_full_disk_is_a_config_error_naming_the_file(tmp_path, monkeypatch):
    import errno

    from service import config_store
    path = tmp_path / "gc" / "config.toml"
    ConfigStore(path).save(Profile(name="a"))
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(config_store.os, "replace", full)
    with pytest.raises(ConfigError) as caught:
        ConfigStore(path).save(Profile(name="b"))
    assert str(caught.value) == f"{path}: cannot write: No space left on device"
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml", "config.toml.lock"]  # no temp file


def test_unexpected_exception_is_one_line_without_its_message(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise ValueError(f"internal detail with {SECRET}")

    monkeypatch.setattr(cli_module, "masked", boom)
    path = tmp_path / "c.toml"
    ConfigStore(path).save(Profile(name="a"))
    result = CliRunner().invoke(cli_module.cli, ["--config", str(path), "profiles", "list"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: unexpected internal error (ValueError); "
                             "run with --debug to see where it happened\n")
    debug = CliRunner().invoke(cli_module.cli, ["--config", str(path), "--debug", "profiles", "list"])
    assert "in profiles_list" in debug.stderr and SECRET not in debug.output
    assert "Traceback" not in debug.output


def test_keyboard_interrupt_anywhere_in_a_command_exits_130(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "call_with_token", interrupted)
    result = CliRunner().invoke(cli_module.cli, ["--config", str(tmp_path / "c.toml"), "--accesstoken", "t",
                                                 "--environment", "http://127.0.0.1:9", "users", "me", "get"])
    assert result.exit_code == 130 and result.stderr.endswith("Error: interrupted (Ctrl-C)\n")
