"""`gclogin auth status`, `gclogin auth token` and the login line against the mock IdP (in-thread)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mock_idp import create_app
from mock_idp.testing import issue_token
from service import cli as cli_module
from service.cli import cli
from service.config_store import ConfigStore
from service.profiles import GrantType, Profile, TokenData
from devtools.servers import wsgi_server

USER_ID = "11111111-2222-4333-8444-555555555555"
CC_ID, CC_SECRET, PKCE_ID = "auth-cc-client", "auth-cc-secret", "auth-pkce-client"
SEED = f'''
[[users]]
id = "{USER_ID}"
name = "Alice Auth"
email = "alice@example.com"
username = "alice@example.com"
password = "alice-auth-password"

[[clients]]
id = "{CC_ID}"
secret = "{CC_SECRET}"
name = "auth cc"
authorized_grant_type = "CLIENT-CREDENTIALS"
registered_redirect_uri = []
scope = []
access_token_validity_seconds = 3600

[[clients]]
id = "{PKCE_ID}"
secret = ""
name = "auth pkce"
authorized_grant_type = "CODE"
registered_redirect_uri = ["http://localhost:8085"]
scope = []
access_token_validity_seconds = 3600
'''


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    base = tmp_path_factory.mktemp("idp")
    (base / "seed.toml").write_text(SEED)
    app = create_app({"SEED": str(base / "seed.toml"), "DB": str(base / "idp.sqlite3")})
    with wsgi_server(app) as url:
        yield url, app


@pytest.fixture
def config(tmp_path, idp):
    url, app = idp
    path = tmp_path / "gc" / "config.toml"
    store = ConfigStore(path)
    store.save(Profile(name="cc", grant_type=GrantType.CLIENT_CREDENTIALS, client_id=CC_ID,
                       client_secret=CC_SECRET, environment=url))
    user_token = issue_token(app, PKCE_ID, USER_ID)
    store.save(Profile(name="alice", grant_type=GrantType.PKCE, client_id=PKCE_ID, environment=url,
                       redirect_uri="http://localhost:8085",
                       token_data=TokenData.issued(user_token, "bearer", 3600)))
    store.save(Profile(name="web", grant_type=GrantType.PKCE, client_id=PKCE_ID, environment=url,
                       redirect_uri="http://localhost:8085"))
    return path


def run(config, *args, env=None):
    return CliRunner().invoke(cli, ["--config", str(config), *args], env=env)


def test_status_shows_every_profile_with_who_and_expiry(config, idp):
    result = run(config, "auth", "status")
    assert result.exit_code == 0, result.output
    blocks = {b.splitlines()[0]: b for b in result.output.strip().split("\n\n")}
    assert set(blocks) == {"cc", "alice", "web"}
    assert "logged in as: Alice Auth (alice@example.com)" in blocks["alice"]
    assert "token: valid until " in blocks["alice"]
    assert f"environment: {idp[0]} (profile)" in blocks["alice"]
    assert "logged in as: nobody (no valid token)" in blocks["web"]
    assert "token: none (not logged in)" in blocks["web"]
    assert "grant: 1. Client Credentials" in blocks["cc"] and CC_SECRET not in result.output


def test_status_of_one_profile_names_an_environment_variable_source(config):
    result = run(config, "auth", "status", "-p", "cc", env={"GENESYSCLOUD_OAUTHCLIENT_ID": CC_ID})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "cc"
    assert f"client ID: {CC_ID} (GENESYSCLOUD_OAUTHCLIENT_ID)" in result.output


def test_token_logs_in_with_client_credentials_and_prints_the_token_alone(config, idp):
    result = run(config, "auth", "token", "-p", "cc")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "\n" not in token and token == ConfigStore(config).get("cc").token_data.access_token
    status = run(config, "auth", "status", "-p", "cc")
    assert f"logged in as: client credentials (client {CC_ID})" in status.output
    again = run(config, "auth", "token", "-p", "cc")
    assert again.stdout.strip() == token  # the cached token, not a new login


def test_token_of_a_user_profile_and_users_me_with_it(config, idp):
    result = run(config, "auth", "token", "-p", "alice")
    assert result.exit_code == 0
    assert result.stdout.strip() == ConfigStore(config).get("alice").token_data.access_token


def test_token_of_a_browser_profile_without_a_token_asks_for_a_login(config):
    result = run(config, "auth", "token", "-p", "web")
    assert result.exit_code == 1 and result.stdout == ""
    assert "gclogin login -p web" in result.stderr


def test_token_refuses_a_terminal_unless_forced(config, monkeypatch):
    monkeypatch.setattr(cli_module, "_stdout_is_terminal", lambda: True)
    refused = run(config, "auth", "token", "-p", "alice")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert "refusing to print an access token to a terminal" in refused.stderr and "--force" in refused.stderr
    forced = run(config, "auth", "token", "-p", "alice", "--force")
    assert forced.exit_code == 0 and forced.stdout.strip()


def test_profiles_new_says_who_it_logged_in_as(tmp_path, idp):
    config = tmp_path / "c.toml"
    result = run(config, "profiles", "new", "--name", "n", "--environment", idp[0], "--grant-type",
                 "client-credentials", "--client-id", CC_ID, "--client-secret", CC_SECRET, "--yes")
    assert result.exit_code == 0, result.output
    assert f"Logged in to {idp[0]} as client credentials (client {CC_ID})." in result.output
    assert json.loads(run(config, "profiles", "list").stdout)[0]["name"] == "n"


def test_login_says_where_and_as_whom(config, idp):
    result = run(config, "login", "-p", "cc")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Logged in to {idp[0]} as client credentials (client {CC_ID}); "
                                    "the token is valid until ")
