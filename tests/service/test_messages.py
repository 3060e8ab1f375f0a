"""The messages a newcomer meets first, each pinned to text that says what to do (issue 19, point 7)."""
from __future__ import annotations

import io

import pytest
from click.testing import CliRunner

from mock_idp import create_app
from mock_idp.testing import app_config
from service.cli import cli, verification_failure
from service.config_store import UNTERMINATED_STRING, ConfigStore, readable_parse_reason
from service.environments import resolve
from service.errors import (ConfigParseError, InvalidValueError, OAuthError, ProfileNotFoundError,
                            WRONG_CLIENT_CREDENTIALS, readable_description)
from service.profiles import GrantType, Profile


def run(config, *args, **kwargs):
    return CliRunner().invoke(cli, ["--config", str(config), *args], **kwargs)


def test_the_plain_http_hint_names_a_flag_that_works_after_the_command(tmp_path):
    with pytest.raises(InvalidValueError) as caught:
        resolve("http://idp.example.test")
    assert "use https (the CLI allows plain http with --insecure, e.g. gclogin profiles new --insecure)" \
        in str(caught.value)
    config = tmp_path / "gc" / "config.toml"
    result = run(config, "profiles", "new", "--insecure", "--name", "lab", "--environment",
                 "http://idp.example.test", "--grant-type", "none", "--access-token", "tok-value", "--yes")
    assert result.exit_code == 0, result.output
    assert ConfigStore(config).get("lab").insecure


def test_a_wrong_secret_is_said_plainly_not_with_authlibs_method_list():
    authlib = "The client cannot authenticate with methods: ['client_secret_basic', 'client_secret_post']"
    assert readable_description("invalid_client", authlib) == WRONG_CLIENT_CREDENTIALS
    assert str(OAuthError("invalid_client", authlib)) == f"login failed: invalid_client: {WRONG_CLIENT_CREDENTIALS}"
    assert readable_description("invalid_client", "Bad client credentials") == "Bad client credentials"


def test_the_mock_answers_a_wrong_secret_with_a_sentence(tmp_path):
    client = create_app(app_config(tmp_path)).test_client()
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("6cdd66fc-2ce2-410e-87ee-4211c9fd3c45", "wrong-secret"))
    assert answer.status_code == 401
    description = answer.get_json()["error_description"]
    assert "[" not in description and description.endswith(".")


def test_cancel_at_the_sign_in_page_is_reported_as_cancelled():
    line = verification_failure(OAuthError("access_denied", "The user cancelled the sign-in."))
    assert line == ("The login was cancelled at the sign-in page (login failed: access_denied: "
                    "The user cancelled the sign-in.). Nothing was saved.")
    assert "not valid" not in line


def test_client_secret_with_yes_mentions_the_environment_variable(tmp_path):
    result = run(tmp_path / "c.toml", "profiles", "new", "--name", "ci", "--grant-type", "1",
                 "--client-id", "cid", "--yes")
    assert result.exit_code == 2
    assert ("--client-secret is required with --yes (or set GENESYSCLOUD_OAUTHCLIENT_SECRET, "
            "which stays out of ps)") in result.stderr


class CtrlC(io.BytesIO):
    """Input whose first real read is the user pressing Ctrl-C (click probes with read(0))."""

    def read(self, size=-1):
        if size == 0:
            return b""
        raise KeyboardInterrupt

    def read1(self, size=-1):
        return self.read(size)

    def readline(self, size=-1):
        raise KeyboardInterrupt

    def readinto(self, buffer):
        raise KeyboardInterrupt


def test_ctrl_c_at_a_prompt_exits_130_like_during_a_login(tmp_path):
    result = run(tmp_path / "c.toml", "profiles", "new", input=CtrlC())
    assert result.exit_code == 130
    assert "interrupted (Ctrl-C)" in result.stderr


def test_eof_at_a_prompt_is_not_called_ctrl_c(tmp_path):
    result = run(tmp_path / "c.toml", "profiles", "new", input="")
    assert result.exit_code == 1 and "Ctrl-C" not in result.output


def test_an_unterminated_string_is_called_that(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[DEFAULT]\nclient_credentials = "abc\ngrant_type = "1"\n')
    with pytest.raises(ConfigParseError) as caught:
        ConfigStore(config).load()
    assert str(caught.value) == f"{config}: line 2, column 25: {UNTERMINATED_STRING}"
    assert "u000a" not in str(caught.value)
    assert readable_parse_reason("Unexpected end of file") == "Unexpected end of file"


def test_a_missing_profile_lists_the_ones_that_exist(tmp_path):
    config = tmp_path / "gc" / "config.toml"
    store = ConfigStore(config)
    with pytest.raises(ProfileNotFoundError) as caught:
        store.get("work")
    assert "there are no profiles yet (gclogin profiles new creates one)" in str(caught.value)
    store.save(Profile(name="DEFAULT", grant_type=GrantType.NONE, access_token="a"))
    store.save(Profile(name="lab", grant_type=GrantType.NONE, access_token="b"))
    result = run(config, "users", "me", "get", "-p", "work")
    assert result.exit_code == 1
    assert f"profile 'work' not found in {config}; the profiles there are DEFAULT, lab" in result.stderr
