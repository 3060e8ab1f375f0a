"""What the CLI says when things go wrong: the cause, once, on one line, and nothing saved.

A tiny WSGI token/API server on 127.0.0.1 stands in for the IdP where a test needs a
specific answer (a refusal, a server error); the mock IdP itself is used in test_cli_e2e.
"""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from importlib.metadata import version

import pytest
from click.testing import CliRunner

from service.cli import INVALID_CREDENTIALS, cli, verification_failure
from service.config_store import ConfigStore
from service.environments import REGIONS
from service.errors import NetworkError, OAuthError, PortInUseError
from service.profiles import GrantType, Profile
from devtools.servers import free_port, wsgi_server

CORRUPT = '"{not json"'


class FakeIdp:
    """POST /oauth/token answers ``token_answer``; /api/v2/users/me and tokens/me check the bearer."""

    def __init__(self) -> None:
        self.token_answer: tuple[int, dict] = (200, {"access_token": "fresh-token", "token_type": "bearer",
                                                     "expires_in": 3600})
        self.calls: list[str] = []

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        self.calls.append(f"{method} {path}")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if (method, path) == ("POST", "/oauth/token"):
            status, body = self.token_answer
        elif (method, path) == ("GET", "/api/v2/users/me") and auth == "Bearer fresh-token":
            status, body = 200, {"id": "u1", "name": "Fresh"}
        elif (method, path) == ("DELETE", "/api/v2/tokens/me") and auth == "Bearer fresh-token":
            status, body = 204, None
        else:
            status, body = 401, {"message": "bad token", "code": "bad.credentials", "status": 401}
        data = b"" if body is None else json.dumps(body).encode()
        start_response(f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


@pytest.fixture(scope="module")
def fake_idp() -> Iterator[tuple[str, FakeIdp]]:
    app = FakeIdp()
    with wsgi_server(app) as url:
        yield url, app


@pytest.fixture
def idp(fake_idp):
    url, app = fake_idp
    app.token_answer = FakeIdp().token_answer
    app.calls.clear()
    return url, app


def run(config, *args, **kwargs):
    return CliRunner().invoke(cli, ["--config", str(config), *args], **kwargs)


def write(path, text):
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path


# --- 1. verification: only a refusal blames the credentials ------------------------------

def _new_cc(config, environment):
    return run(config, "profiles", "new", "--name", "ci", "--environment", environment, "--grant-type", "1",
               "--client-id", "cid", "--yes", env={"GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3cret-value"})


def test_unreachable_server_is_not_called_invalid_credentials(tmp_path):
    config = tmp_path / "gc" / "config.toml"
    port = free_port()  # nothing listens there
    result = _new_cc(config, f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert INVALID_CREDENTIALS not in result.stderr
    assert f"The server can't be reached, so the credentials were not checked: cannot reach " \
           f"http://127.0.0.1:{port}" in result.stderr
    assert "Nothing was saved." in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not config.exists()


def test_a_refusal_says_the_credentials_are_not_valid(tmp_path, idp):
    url, app = idp
    app.token_answer = (401, {"error": "invalid_client", "error_description": "Bad client credentials"})
    config = tmp_path / "gc" / "config.toml"
    result = _new_cc(config, url)
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: {INVALID_CREDENTIALS} (login failed: invalid_client: "
                                     "Bad client credentials) Nothing was saved.")
    assert "s3cret-value" not in result.output
    assert not config.exists()


def test_a_server_failure_is_not_called_invalid_credentials(tmp_path, idp):
    url, app = idp
    app.token_answer = (503, {"error": "temporarily_unavailable", "error_description": "try later"})
    config = tmp_path / "gc" / "config.toml"
    result = _new_cc(config, url)
    assert result.exit_code == 1
    assert INVALID_CREDENTIALS not in result.stderr
    assert "could not be checked" in result.stderr and "temporarily_unavailable: try later" in result.stderr
    assert not config.exists()


def test_busy_redirect_port_names_the_port_and_the_flag(tmp_path, idp):
    url, app = idp
    config = tmp_path / "gc" / "config.toml"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        result = run(config, "profiles", "new", "--name", "web", "--environment", url, "--grant-type", "pkce",
                     "--client-id", "pid", "--redirect-port", str(port), "--no-https", "--no-browser",
                     "--timeout", "5", "--yes")
    assert result.exit_code == 1
    assert INVALID_CREDENTIALS not in result.stderr
    assert f"Port {port} is already in use" in result.stderr and "--redirect-port" in result.stderr
    assert "Nothing was saved." in result.stderr
    assert not config.exists() and app.calls == []


@pytest.mark.parametrize("error, blames", [
    (OAuthError("invalid_client"), True), (OAuthError("unauthorized_client"), True),
    (OAuthError("access_denied", "the user said no"), False), (OAuthError("invalid_grant"), True),
    (OAuthError("server_error"), False), (OAuthError("invalid_response", "HTTP 502"), False),
    (NetworkError("cannot reach https://login.example.invalid: [Errno -2] Name or service not known"), False),
    (PortInUseError("cannot listen on 127.0.0.1 port 8080: it is in use", 8080), False),
])
def test_verification_failure_blames_credentials_only_for_a_refusal(error, blames):
    line = verification_failure(error)
    assert (INVALID_CREDENTIALS in line) is blames
    assert line.endswith("Nothing was saved.") and "\n" not in line
    if isinstance(error, PortInUseError):
        assert "Port 8080" in line and "--redirect-port" in line
    elif isinstance(error, NetworkError):
        assert "can't be reached" in line and "Name or service not known" in line


# --- 2. an unreadable token cache doesn't lock the profile -------------------------------

def _corrupt_profile(tmp_path, url, grant):
    return write(tmp_path / "gc" / "config.toml",
                 f'# mine\n[p]\ngrant_type = "{grant}"\nclient_credentials = "cid"\nclient_secret = "s3cret-value"\n'
                 f'environment = "{url}"\noauth_token_data = {CORRUPT}\n')


def _warning(config):
    return f"warning: {config}: profile 'p': oauth_token_data: is not valid JSON; ignoring the cached token"


def test_corrupt_cache_browser_profile_asks_for_login(tmp_path, idp):
    url, app = idp
    config = _corrupt_profile(tmp_path, url, "3")
    result = run(config, "users", "me", "get", "-p", "p")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        _warning(config), "Error: no valid token cached for profile 'p': run gclogin login -p p"]
    assert app.calls == []


def test_corrupt_cache_client_credentials_logs_in_again_and_replaces_it(tmp_path, idp):
    url, app = idp
    config = _corrupt_profile(tmp_path, url, "1")
    result = run(config, "users", "me", "get", "-p", "p")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": "u1", "name": "Fresh"}
    assert result.stderr.splitlines() == [_warning(config)]
    saved = ConfigStore(config).get("p")
    assert saved.token_data.access_token == "fresh-token" and not saved.token_error
    assert config.read_text().startswith("# mine\n[p]\n")


def test_corrupt_cache_login_replaces_it(tmp_path, idp):
    url, _ = idp
    config = _corrupt_profile(tmp_path, url, "1")
    result = run(config, "login", "-p", "p")
    assert result.exit_code == 0, result.output
    assert ConfigStore(config).get("p").token_data.access_token == "fresh-token"


def test_corrupt_cache_logout_just_drops_it(tmp_path, idp):
    url, app = idp
    config = _corrupt_profile(tmp_path, url, "3")
    result = run(config, "logout", "-p", "p")
    assert result.exit_code == 0, result.output
    assert "Dropped the unreadable cached token of profile p." in result.stdout
    assert "{not json" not in config.read_text()
    warnings = []
    assert ConfigStore(config, warn=warnings.append).get("p").client_id == "cid" and warnings == []
    assert app.calls == []  # nothing to revoke


# --- 3. usage errors say the flag once ---------------------------------------------------

def _error_line(result):
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    return line


def test_bad_port_names_the_flag_once(tmp_path):
    result = run(tmp_path / "c.toml", "profiles", "new", "--yes", "--grant-type", "3", "--client-id", "c",
                 "--redirect-port", "70000")
    assert result.exit_code == 2
    assert _error_line(result) == "Error: Invalid value for --redirect-port: port 70000 is not in 0-65535"


@pytest.mark.parametrize("args", [
    ["profiles", "new", "--yes", "--environment", "us-east-9"],
    ["--environment", "us-east-9", "profiles", "list"],
])
def test_unknown_region_names_the_flag_once_and_lists_the_regions(tmp_path, args):
    result = run(tmp_path / "c.toml", *args)
    assert result.exit_code == 2
    line = _error_line(result)
    assert line.count("environment") == 1  # no second "environment:" prefix
    assert f"unknown region 'us-east-9'; the regions are {', '.join(REGIONS)}" in line


def test_bad_grant_type_names_the_flag_once(tmp_path):
    line = _error_line(run(tmp_path / "c.toml", "profiles", "new", "--yes", "--grant-type", "7"))
    assert line.startswith("Error: Invalid value for --grant-type: unknown grant type '7'")
    assert line.count("--grant-type") == 1


def test_invalid_profile_error_names_the_file(tmp_path):
    config = write(tmp_path / "gc" / "config.toml", '[ci]\ngrant_type = "7"\n')
    result = run(config, "users", "me", "get", "-p", "ci")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {config}: profile 'ci': grant_type: ")


# --- 4. listing, config paths, help, version ----------------------------------------------

def test_profiles_list_shows_the_good_profiles_and_marks_the_bad_one(tmp_path):
    config = write(tmp_path / "gc" / "config.toml",
                   '[a]\ngrant_type = "1"\nclient_secret = "s3cret-value"\n[bad]\ngrant_type = "7"\n[z]\ngrant_type = "3"\n')
    result = run(config, "profiles", "list")
    assert result.exit_code == 1
    listed = json.loads(result.stdout)
    assert [p["name"] for p in listed] == ["a", "bad", "z"]
    assert listed[0]["client_secret"] == "********" and listed[2]["grant_type"] == "3"
    assert listed[1] == {"name": "bad", "error": listed[1]["error"]}
    assert listed[1]["error"].startswith(f"{config}: profile 'bad': grant_type: ")
    assert result.stderr.strip() == f"Error: 1 profile could not be read: {listed[1]['error']}"
    assert "s3cret-value" not in result.output


def test_config_that_is_a_directory_is_one_clear_error(tmp_path):
    directory = tmp_path / "confdir"
    directory.mkdir(mode=0o755)
    for args in (["profiles", "list"], ["users", "me", "get"]):
        result = run(directory, *args)
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            f"Error: {directory} is a directory; --config or GCLOGIN_CONFIG must name a file "
            "(e.g. ~/.gc/config.toml)"]


def test_profiles_new_help_keeps_the_secret_off_the_command_line():
    result = CliRunner().invoke(cli, ["profiles", "new", "--help"])
    examples = result.output.split("Options:")[0]
    assert "--client-secret" not in examples
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in examples and "client-credentials" in examples


def test_version_comes_from_the_installed_metadata():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"gclogin {version('gclogin')}\n"


def test_a_gc_profile_with_a_spaced_name_is_usable(tmp_path, idp):
    url, _ = idp
    config = write(tmp_path / "gc" / "config.toml",
                   f'["my org"]\ngrant_type = "1"\nclient_credentials = "cid"\nclient_secret = "x"\n'
                   f'environment = "{url}"\n')
    result = run(config, "login", "-p", "my org")
    assert result.exit_code == 0, result.output
    assert ConfigStore(config).get("my org").token_data.access_token == "fresh-token"
    assert run(config, "profiles", "get", "my org").exit_code == 0


def test_login_required_message_quotes_a_spaced_name(tmp_path):
    config = write(tmp_path / "gc" / "config.toml", '["my org"]\ngrant_type = "3"\nclient_credentials = "c"\n')
    result = run(config, "users", "me", "get", "-p", "my org")
    assert result.stderr.strip() == "Error: no valid token cached for profile 'my org': run gclogin login -p 'my org'"


def test_grant_profile_roundtrip_still_saves(tmp_path):
    """Sanity: the stricter messages didn't change a normal save."""
    config = tmp_path / "gc" / "config.toml"
    ConfigStore(config).save(Profile(name="ok", grant_type=GrantType.PKCE, client_id="c"))
    assert run(config, "profiles", "get", "ok").exit_code == 0


def test_login_on_a_busy_port_says_how_to_change_it(tmp_path, idp):
    url, app = idp
    config = tmp_path / "gc" / "config.toml"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        ConfigStore(config).save(Profile(name="web", grant_type=GrantType.PKCE, client_id="pid", environment=url,
                                         redirect_uri=f"http://127.0.0.1:{port}"))
        before = config.read_bytes()
        result = run(config, "login", "-p", "web", "--no-browser", "--timeout", "5")
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1 port {port}: it is in use" in result.stderr
    assert "gclogin profiles new --name web --redirect-port PORT" in result.stderr
    assert config.read_bytes() == before and app.calls == []
