"""Client-side requirements of the `gclogin` CLI that need no server (profiles, files, output)."""
from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from service.cli import cli

GROUP = "client"
SECRET = "cli-secret-value-0123456789"
TOKEN = "cli-access-token-0123456789"


@pytest.fixture
def run(tmp_path):
    config = tmp_path / "gc" / "config.toml"

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, ["--config", str(config), *args], input=input, catch_exceptions=False)

    invoke.config = config
    return invoke


def _new(run, name="p", grant="client-credentials"):
    return run("profiles", "new", "--name", name, "--environment", "http://127.0.0.1:9", "--grant-type", grant,
               "--client-id", "cid", "--client-secret", SECRET, "--access-token", TOKEN,
               "--redirect-port", "0", "--no-https", "--yes")


def test_R6_implicit_offered_with_a_deprecation_warning_and_pkce_listed(run):
    """R6 — RFC 9700 §2.1.2: implicit is offered, warned against, and PKCE is on the menu."""
    result = run("profiles", "new", "--no-browser", "--timeout", "1",
                 input=f"p\nhttp://127.0.0.1:9\n{TOKEN}\n2\ncid\n\n0\nN\nN\nN\n")
    assert result.exit_code == 0, result.output
    assert "2. Implicit Grant" in result.output and "3. PKCE Grant" in result.output
    warning = result.stderr if hasattr(result, "stderr") else result.output
    assert "deprecated" in warning and "PKCE" in warning


def test_R28_config_file_0600_in_0700_directory_no_temp_left(run):
    """R28 — secrets file 0600 in a 0700 directory, replaced atomically (no temp file left behind)."""
    assert _new(run).exit_code == 0
    assert _new(run, name="q").exit_code == 0
    assert stat.S_IMODE(run.config.stat().st_mode) == 0o600
    assert stat.S_IMODE(run.config.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in run.config.parent.iterdir() if not p.name.endswith(".lock")) == ["config.toml"]


def test_R28_loose_existing_file_tightened_on_write(run):
    """R28 — a pre-existing world-readable config is rewritten 0600 and every other profile kept."""
    run.config.parent.mkdir(mode=0o700)
    run.config.write_text('[keep]\ngrant_type = "0"\naccess_token = "other"\n')
    os.chmod(run.config, 0o644)
    assert _new(run).exit_code == 0
    assert stat.S_IMODE(run.config.stat().st_mode) == 0o600
    assert "[keep]" in run.config.read_text()


def test_R25_profile_listings_do_not_print_secrets(run):
    """R25 — RFC 6749 §10.3: profiles new/list/get never print the secret or the token."""
    created = _new(run)
    assert created.exit_code == 0
    for result in (created, run("profiles", "list"), run("profiles", "get", "p")):
        text = result.output + (result.stderr if hasattr(result, "stderr") else "")
        assert SECRET not in text and TOKEN not in text
    assert SECRET in run.config.read_text()  # it is stored, only never shown
