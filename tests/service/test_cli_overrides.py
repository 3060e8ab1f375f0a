"""gc's global flags and GENESYSCLOUD_* variables override the profile (REFERENCE §4).

Precedence, as in gc: flag > environment variable > profile. A small stdlib server on
127.0.0.1 records which token, client and environment each request really used.
"""
from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from service.cli import cli
from service.config_store import ConfigStore
from service.errors import InvalidValueError, ProfileNotFoundError
from service.logins import Overrides, apply_overrides, resolve_profile
from service.profiles import GrantType, Profile, TokenData


class Recorder(ThreadingHTTPServer):
    """Answers /oauth/token and /api/v2/users/me; remembers (server name, credential) per request."""

    def __init__(self, name: str, seen: list) -> None:
        self.name, self.seen = name, seen
        super().__init__(("127.0.0.1", 0), _Handler)
        # a short poll: shutdown() waits for the loop's next look, 0.5 s by default
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=10)


class _Handler(BaseHTTPRequestHandler):
    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        ident, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        self.server.seen.append((self.server.name, "basic", unquote(ident), unquote(secret)))
        self._reply(200, {"access_token": f"cc-token-for-{unquote(ident)}", "token_type": "bearer",
                          "expires_in": 3600})

    def do_GET(self) -> None:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.server.seen.append((self.server.name, "bearer", token))
        self._reply(200, {"id": "u1", "name": "Me"})

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def servers():
    seen: list = []
    started = {name: Recorder(name, seen) for name in ("profile", "env", "flag")}
    yield started, seen
    for server in started.values():
        server.stop()


@pytest.fixture
def config(tmp_path, servers):
    started, _ = servers
    path = tmp_path / "gc" / "config.toml"
    ConfigStore(path).save(Profile(name="DEFAULT", grant_type=GrantType.CLIENT_CREDENTIALS,
                                   client_id="profile-id", client_secret="profile-secret",
                                   environment=started["profile"].url))
    return path


def run(config, *args, env=None):
    return CliRunner().invoke(cli, ["--config", str(config), *args], env=env)


# --- precedence ---------------------------------------------------------------------------

@pytest.mark.parametrize("flag_place", ["before", "after"])
def test_access_token_flag_beats_env_beats_profile(config, servers, flag_place, monkeypatch):
    started, seen = servers
    store = ConfigStore(config)
    store.save(Profile(name="DEFAULT", grant_type=GrantType.NONE, access_token="profile-token",
                       environment=started["profile"].url))
    assert run(config, "users", "me", "get").exit_code == 0
    monkeypatch.setenv("GENESYSCLOUD_ACCESS_TOKEN", "env-token")
    assert run(config, "users", "me", "get").exit_code == 0
    flag = ["--accesstoken", "flag-token"]
    args = [*flag, "users", "me", "get"] if flag_place == "before" else ["users", "me", "get", *flag]
    result = run(config, *args)
    assert result.exit_code == 0, result.output
    assert [s[2] for s in seen] == ["profile-token", "env-token", "flag-token"]
    assert "flag-token" not in result.output and "env-token" not in result.output


def test_environment_flag_beats_region_env_beats_profile(config, servers, monkeypatch):
    started, seen = servers
    run(config, "users", "me", "get")
    monkeypatch.setenv("GENESYSCLOUD_REGION", started["env"].url)
    run(config, "users", "me", "get")
    result = run(config, "users", "me", "get", "--environment", started["flag"].url)
    assert result.exit_code == 0, result.output
    # each run logs in (client credentials) then calls the API, both at the winning server
    assert [s[0] for s in seen] == ["profile", "profile", "env", "env", "flag", "flag"]


def test_client_flags_beat_env_beats_profile(config, servers, monkeypatch):
    _, seen = servers
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "env-id")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "env-secret")
    run(config, "users", "me", "get")
    run(config, "--clientid", "flag-id", "users", "me", "get")
    result = run(config, "--clientid", "flag-id", "--clientsecret", "flag secret&+", "users", "me", "get")
    assert result.exit_code == 0, result.output
    basics = [s[2:] for s in seen if s[1] == "basic"]
    assert basics == [("env-id", "env-secret"), ("flag-id", "env-secret"), ("flag-id", "flag secret&+")]
    assert "flag secret&+" not in result.output


def test_tokens_from_overrides_are_not_cached_in_the_profile(config, servers):
    before = config.read_bytes()
    result = run(config, "--clientid", "flag-id", "--clientsecret", "s", "users", "me", "get")
    assert result.exit_code == 0, result.output
    assert config.read_bytes() == before
    assert ConfigStore(config).get("DEFAULT").token_data is None


def test_flags_work_without_any_config_file(tmp_path, servers):
    started, seen = servers
    missing = tmp_path / "nowhere" / "config.toml"
    result = run(missing, "--environment", started["flag"].url, "--accesstoken", "t", "users", "me", "get")
    assert result.exit_code == 0, result.output
    assert seen == [("flag", "bearer", "t")] and not missing.exists()
    nothing = run(missing, "users", "me", "get")
    assert nothing.exit_code == 1 and "profile 'DEFAULT' not found" in nothing.stderr


# --- secret-bearing flags ---------------------------------------------------------------------

def test_secret_flags_warn_once_on_stderr(config, servers):
    result = run(config, "--clientsecret", "s3", "--accesstoken", "tok-on-argv", "users", "me", "get")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "other local users" in warnings[0] and "ps" in warnings[0]
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in warnings[0]
    assert "tok-on-argv" not in result.output and "s3" not in result.output.replace("ps", "")
    assert "warning" not in result.stdout


def test_non_secret_flags_do_not_warn(config, servers):
    started, _ = servers
    result = run(config, "--environment", started["flag"].url, "--clientid", "x", "users", "me", "get")
    assert "warning" not in result.stderr


def test_profiles_new_secret_flags_warn_and_suggest_the_hidden_prompt(tmp_path):
    result = run(tmp_path / "c.toml", "profiles", "new", "--yes", "--name", "t", "--grant-type", "0",
                 "--access-token", "argv-token")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning:") == 1 and "hidden input" in result.stderr
    assert "argv-token" not in result.output


def test_profiles_new_takes_secrets_from_env_with_yes(tmp_path, servers, monkeypatch):
    started, seen = servers
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "env-only-secret")
    path = tmp_path / "c.toml"
    result = run(path, "profiles", "new", "--yes", "--name", "ci", "--grant-type", "1", "--client-id", "ci-id",
                 "--environment", started["flag"].url)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert seen == [("flag", "basic", "ci-id", "env-only-secret")]
    assert ConfigStore(path).get("ci").client_secret == "env-only-secret"


@pytest.mark.parametrize("args, message", [
    (["--environment", "xx-nowhere-1"], "unknown region 'xx-nowhere-1'"),
    (["--clientid", " "], "--clientid"),
    (["--accesstoken", ""], "--accesstoken"),
])
def test_bad_flag_values_are_one_line_usage_errors(config, args, message):
    before = config.read_bytes()
    result = run(config, *args, "users", "me", "get")
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output and config.read_bytes() == before


def test_bad_region_variable_is_named(config, monkeypatch):
    monkeypatch.setenv("GENESYSCLOUD_REGION", "xx-nowhere-1")
    result = run(config, "users", "me", "get")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: GENESYSCLOUD_REGION: unknown region 'xx-nowhere-1'; "
                                            "the regions are us-east-1, ")
    assert len(result.stderr.strip().splitlines()) == 1


# --- the pure part ----------------------------------------------------------------------------

def test_resolve_profile_precedence_without_the_cli(tmp_path):
    store = ConfigStore(tmp_path / "c.toml")
    store.save(Profile(name="p", grant_type=GrantType.PKCE, client_id="pid", environment="mypurecloud.com",
                       token_data=TokenData.issued("cached", "bearer", 3600)))
    env = {"GENESYSCLOUD_REGION": "eu-west-1", "GENESYSCLOUD_OAUTHCLIENT_ID": "env-id"}
    got = resolve_profile(store, "p", env, Overrides(environment="mypurecloud.jp"))
    assert got.persist is False
    p = got.profile
    assert (p.environment, p.client_id, p.grant_type, p.token_data) == ("mypurecloud.jp", "env-id", GrantType.PKCE, None)
    assert resolve_profile(store, "p", {}).profile.token_data.access_token == "cached"
    with pytest.raises(ProfileNotFoundError):
        resolve_profile(store, "nope", {})
    with pytest.raises(InvalidValueError, match="GENESYSCLOUD_REGION"):
        resolve_profile(store, "p", {"GENESYSCLOUD_REGION": "nowhere!"})


def _opt(prefix: str):
    return st.one_of(st.none(), st.text(alphabet="abcXYZ019-", min_size=1, max_size=8).map(lambda t: prefix + t))


_TRIPLE = st.tuples(_opt("id-"), _opt("sec-"), _opt("tok-"))


@settings(max_examples=80)
@given(flag=_TRIPLE, env=_TRIPLE,
       grant=st.sampled_from(list(GrantType)))
def test_override_precedence_is_flag_then_env_then_profile(flag, env, grant):
    profile = Profile(name="p", grant_type=grant, client_id="pid", client_secret="psecret",
                      access_token="ptoken", token_data=TokenData.issued("cached", "bearer", 60))
    flags = Overrides(client_id=flag[0], client_secret=flag[1], access_token=flag[2])
    envs = Overrides(client_id=env[0], client_secret=env[1], access_token=env[2])
    merged = flags.over(envs)
    out = apply_overrides(profile, merged)
    pick = [f if f is not None else e for f, e in zip(flag, env, strict=True)]
    assert out.client_id == (pick[0] or "pid")
    assert out.client_secret == (pick[1] or "psecret")
    assert out.access_token == (pick[2] or "ptoken")
    if pick[1] is not None:
        assert out.grant_type is GrantType.CLIENT_CREDENTIALS
    elif pick[0] is not None:
        assert out.grant_type is (grant if grant.is_browser else GrantType.CLIENT_CREDENTIALS)
    else:
        assert out.grant_type is grant
    assert (out.token_data is None) == (pick[0] is not None or pick[1] is not None)
    assert "psecret" not in repr(out) and "ptoken" not in repr(out) and "cached" not in repr(out)
    assert "sec-" not in repr(merged) and "tok-" not in repr(merged)
