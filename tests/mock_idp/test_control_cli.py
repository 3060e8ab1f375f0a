"""Each injected fault kind, as gclogin's CLI meets it: one clear line, and no retry of a
request it must not repeat (service/api.py retries nothing; service/logins.py logs in
again only after a 401 of a cached client-credentials token)."""
from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from service import api
from service.cli import cli
from service.config_store import ConfigStore
from service.profiles import GrantType, Profile

from .conftest import ALICE, CC, IMPLICIT


def gclogin(mock, tmp_path, *args, access_token=None):
    env = {"GENESYSCLOUD_REGION": mock.base_url}
    if access_token:
        env["GENESYSCLOUD_ACCESS_TOKEN"] = access_token
    else:
        env.update(GENESYSCLOUD_OAUTHCLIENT_ID=CC.id, GENESYSCLOUD_OAUTHCLIENT_SECRET=CC.secret)
    return CliRunner().invoke(cli, ["--config", str(tmp_path / "gc" / "config.toml"), *args], env=env)


def one_line(result) -> str:
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in result.output
    return lines[0]


def sent(mock, path):
    return [r for r in mock.requests if r["path"] == path]


def test_a_status_fault_on_the_token_endpoint(genesys_mock, tmp_path):
    genesys_mock.fail("/oauth/token", status=503, message="Down for maintenance.")
    line = one_line(gclogin(genesys_mock, tmp_path, "login"))
    assert line == "Error: login failed: temporarily_unavailable: Down for maintenance."
    assert len(sent(genesys_mock, "/oauth/token")) == 1
    assert gclogin(genesys_mock, tmp_path, "login").exit_code == 0  # the fault was for one request


def test_a_status_fault_on_the_api(genesys_mock, tmp_path):
    token = genesys_mock.issue_token(IMPLICIT.id, ALICE.username)
    genesys_mock.fail("/api/v2/users/me", status=500)
    line = one_line(gclogin(genesys_mock, tmp_path, "users", "me", "get", access_token=token))
    assert line == "Error: The mock was told to fail this request with HTTP 500. (HTTP 500, internal.server.error)"
    assert len(sent(genesys_mock, "/api/v2/users/me")) == 1


@pytest.mark.parametrize("path", ["/oauth/token", "/api/v2/users/me"])
def test_a_dropped_connection(genesys_mock, tmp_path, path):
    token = genesys_mock.issue_token(IMPLICIT.id, ALICE.username) if path.startswith("/api") else None
    genesys_mock.fail(path, kind="drop")
    args = ("users", "me", "get") if token else ("login",)
    line = one_line(gclogin(genesys_mock, tmp_path, *args, access_token=token))
    assert line.startswith(f"Error: no answer from {genesys_mock.base_url}: ")
    assert len(sent(genesys_mock, path)) == 1  # the request went out: never sent again


def test_a_rate_limit(genesys_mock, tmp_path):
    token = genesys_mock.issue_token(IMPLICIT.id, ALICE.username)
    genesys_mock.fail("/api/v2/users/me", kind="rate_limit", retry_after=30)
    line = one_line(gclogin(genesys_mock, tmp_path, "users", "me", "get", access_token=token))
    assert line == ("Error: Rate limit exceeded the maximum. Retry the request in [30] seconds "
                    "(HTTP 429, too.many.requests)")
    assert len(sent(genesys_mock, "/api/v2/users/me")) == 1


def test_a_rate_limited_login(genesys_mock, tmp_path):
    genesys_mock.fail("/oauth/token", kind="rate_limit", retry_after=5)
    line = one_line(gclogin(genesys_mock, tmp_path, "login"))
    assert line == ("Error: login failed: temporarily_unavailable: Rate limit exceeded the maximum. "
                    "Retry the request in [5] seconds")
    assert len(sent(genesys_mock, "/oauth/token")) == 1


def test_a_delay_within_the_timeout_only_slows_the_answer(genesys_mock, tmp_path):
    token = genesys_mock.issue_token(IMPLICIT.id, ALICE.username)
    genesys_mock.fail("/api/v2/users/me", kind="delay", seconds=0.3)
    result = gclogin(genesys_mock, tmp_path, "users", "me", "get", access_token=token)
    assert result.exit_code == 0 and ALICE.username in result.stdout
    assert sent(genesys_mock, "/api/v2/users/me")[0]["fault"] == "delay"


def test_a_delay_past_the_timeout(genesys_mock, tmp_path, monkeypatch):
    # gclogin waits 30 s for an answer; a shorter wait keeps the test short, the path is the same.
    real_send = api._send
    monkeypatch.setattr(api, "_send", lambda method, url, data, headers, timeout:
                        real_send(method, url, data, headers, 0.2))
    genesys_mock.fail("/oauth/token", kind="delay", seconds=1.0)
    line = one_line(gclogin(genesys_mock, tmp_path, "login"))
    assert line == f"Error: no answer from {genesys_mock.base_url}: timed out"
    deadline = time.monotonic() + 10  # the mock records the request once its delay is over
    while not sent(genesys_mock, "/oauth/token") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # room for a retry to arrive, if gclogin made one
    assert len(sent(genesys_mock, "/oauth/token")) == 1


def test_a_refused_cached_token_is_the_one_retry_and_only_once(genesys_mock, tmp_path):
    """service/logins.py: a cached client-credentials token refused with 401 means one new
    login and one more call; a second 401 is then reported, not retried again."""
    config = tmp_path / "gc" / "config.toml"
    ConfigStore(config).save(Profile(name="ci", environment=genesys_mock.base_url, client_id=CC.id,
                                     client_secret=CC.secret, grant_type=GrantType.CLIENT_CREDENTIALS))
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "login", "-p", "ci"]).exit_code == 0
    genesys_mock.fail("/api/v2/users/me", status=401, count=5, message="Invalid login credentials.")
    before = len(sent(genesys_mock, "/oauth/token"))
    line = one_line(runner.invoke(cli, ["--config", str(config), "users", "me", "get", "-p", "ci"]))
    assert line == "Error: Invalid login credentials. (HTTP 401, bad.credentials)"
    assert len(sent(genesys_mock, "/api/v2/users/me")) == 2
    assert len(sent(genesys_mock, "/oauth/token")) == before + 1
