"""CLI commands that need no IdP: help, profiles list/get/delete, errors as one line, light imports."""
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, UTC

import click
import pytest
from click.testing import CliRunner

from service.cli import cli
from service.config_store import ConfigStore
from service.profiles import GrantType, Profile, TokenData
from devtools.servers import REPO

HEAVY = ("flask", "werkzeug", "authlib", "cryptography", "requests")


def all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in all_commands(cli)] + [()], ids=" ".join)
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "gc" / "config.toml"
    store = ConfigStore(path)
    store.save(Profile(name="DEFAULT", grant_type=GrantType.CLIENT_CREDENTIALS, client_id="cid",
                       client_secret="top-secret-value", environment="mypurecloud.ie",
                       token_data=TokenData.issued("cached-token-value", "bearer", 3600)))
    store.save(Profile(name="other", grant_type=GrantType.PKCE, client_id="pid",
                       redirect_uri="http://localhost:8080", access_token="explicit-token-value"))
    return path


def run(config, *args, **kwargs):
    return CliRunner().invoke(cli, ["--config", str(config), *args], **kwargs)


def test_profiles_list_and_get_mask_secrets(config):
    listed = run(config, "profiles", "list")
    assert listed.exit_code == 0
    assert [p["name"] for p in json.loads(listed.output)] == ["DEFAULT", "other"]
    for args in (("profiles", "list"), ("profiles", "get"), ("profiles", "get", "other"), ("-p", "other", "profiles", "get")):
        out = run(config, *args).output
        for secret in ("top-secret-value", "cached-token-value", "explicit-token-value"):
            assert secret not in out
    assert json.loads(run(config, "profiles", "get", "-p", "other").output)["client_credentials"] == "pid"


def test_profiles_delete_keeps_the_rest(config):
    before = config.read_text()
    assert run(config, "profiles", "delete", "other", "--yes").exit_code == 0
    assert before.startswith(config.read_text().rstrip("\n"))
    assert "[other]" not in config.read_text() and "[DEFAULT]" in config.read_text()
    missing = run(config, "profiles", "delete", "other", "--yes")
    assert missing.exit_code == 1 and "profile 'other' not found" in missing.output


def test_malformed_config_is_one_line_error_naming_file_and_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[DEFAULT]\ngrant_type = \"1\"\nbroken =\n")
    result = run(path, "profiles", "list")
    assert result.exit_code == 1
    assert f"Error: {path}: line 3" in result.output
    assert "Traceback" not in result.output
    assert path.read_text() == "[DEFAULT]\ngrant_type = \"1\"\nbroken =\n"


def test_invalid_value_names_profile_and_key(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[work]\ngrant_type = \"9\"\n")
    result = run(path, "-p", "work", "users", "me", "get")
    assert result.exit_code == 1
    assert "profile 'work': grant_type:" in result.output


def test_browser_profile_without_token_asks_for_login(tmp_path):
    path = tmp_path / "config.toml"
    ConfigStore(path).save(Profile(name="web", grant_type=GrantType.PKCE, client_id="p",
                                   environment="http://127.0.0.1:9"))
    result = run(path, "users", "me", "get", "-p", "web")
    assert result.exit_code == 1
    assert "run gclogin login -p web" in result.output


def test_profiles_new_rejects_bad_flags_without_saving(tmp_path):
    path = tmp_path / "config.toml"
    cases = [
        (["--grant-type", "password"], "--grant-type"),
        (["--environment", "xx-nowhere-1", "--grant-type", "1"], "unknown region 'xx-nowhere-1'"),
        (["--grant-type", "3", "--client-id", "c", "--redirect-port", "70000"], "--redirect-port"),
        (["--grant-type", "0"], "only possible with an access token"),
        (["--name", "bad name"], "--name"),
    ]
    for flags, message in cases:
        result = run(path, "profiles", "new", "--yes", *flags)
        assert result.exit_code != 0, flags
        assert message in result.output, (flags, result.output)
    assert not path.exists()


def test_profiles_new_with_access_token_saves_without_login(tmp_path):
    path = tmp_path / "gc" / "config.toml"
    result = run(path, "profiles", "new", "--name", "tok", "--environment", "eu-west-1",
                 "--access-token", "tok-value", "--grant-type", "0", "--yes")
    assert result.exit_code == 0, result.output
    assert "Profile tok saved." in result.output and "tok-value" not in result.output
    saved = ConfigStore(path).get("tok")
    assert (saved.environment, saved.access_token, saved.grant_type) == ("mypurecloud.ie", "tok-value", GrantType.NONE)
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"


def test_profiles_new_prompts_in_gc_order(tmp_path):
    path = tmp_path / "config.toml"
    answers = "\n".join(["work", "", "secret-tok", "0", "N", "N"]) + "\n"
    result = run(path, "profiles", "new", input=answers)
    assert result.exit_code == 0, result.output
    out = result.output
    order = ["Profile Name [DEFAULT]:", "Environment [mypurecloud.com]:", "Access Token (Optional):",
             "Select your authorization grant type.", "0. None", "3. PKCE Grant",
             "Would you like to use a proxy server? [Y/N]:", "Would you like to use a gateway server? [Y/N]:",
             "Profile work saved."]
    positions = [out.index(text) for text in order]
    assert positions == sorted(positions)
    assert "secret-tok" not in out  # hidden input
    assert ConfigStore(path).get("work").access_token == "secret-tok"


def test_implicit_is_offered_with_a_warning(tmp_path):
    result = run(tmp_path / "c.toml", "profiles", "new", "--yes", "--grant-type", "implicit",
                 "--client-id", "c", "--environment", "http://127.0.0.1:1", "--timeout", "1", "--no-browser")
    assert "prefer the PKCE grant" in result.output


def _run_cli_subprocess(args, env):
    code = ("import sys, runpy\n"
            "from service.cli import main\n"
            "try:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n"
            f"    heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "    print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
            "    raise\n")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.slow
def test_read_path_imports_nothing_heavy(tmp_path):
    """profiles list and users me get with a cached token keep Flask, authlib, cryptography, requests out."""
    from devtools.servers import free_port
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Me(BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.headers.get("Authorization") == "Bearer cached-token-value" and self.path == "/api/v2/users/me"
            body = json.dumps({"id": "u1"} if ok else {"message": "no", "status": 401}).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Me)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        path = tmp_path / "config.toml"
        ConfigStore(path).save(Profile(
            name="DEFAULT", grant_type=GrantType.IMPLICIT, client_id="c",
            environment=f"http://127.0.0.1:{server.server_port}",
            token_data=TokenData("cached-token-value", "bearer", 3600, "",
                                 datetime.now(UTC) + timedelta(hours=1))))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYSCLOUD_", "GCLOGIN_"))}
        env["GCLOGIN_CONFIG"] = str(path)
        for args in (["profiles", "list"], ["users", "me", "get"]):
            proc = _run_cli_subprocess(args, env)
            assert proc.returncode == 0, proc.stderr
            assert "HEAVY=\n" in proc.stderr or proc.stderr.rstrip().endswith("HEAVY="), proc.stderr
        assert json.loads(proc.stdout) == {"id": "u1"}
    finally:
        server.shutdown()
        server.server_close()
