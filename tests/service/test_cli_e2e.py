"""The CLI end to end against the real mock IdP on 127.0.0.1, an HTTP client playing the browser.

Covers the three grants (R1, R2, R8, R13, R14, R20-R22, R26) and the failure cases: wrong
state, replayed callback, error fragment, timeout, redirect URI mismatch; plus the token
cache, env overrides and logout.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, UTC
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from click.testing import CliRunner

from mock_idp import create_app
from service.cli import cli
from service.config_store import ConfigStore
from service.profiles import GrantType, Profile, TokenData
from tests.service.fake_browser import CliProcess, FakeBrowser
from devtools.servers import free_port, wsgi_server

pytestmark = pytest.mark.slow

ALICE = ("alice@example.com", "alice-e2e-password")
CC_ID, CC_SECRET = "e2e-cc-client", "e2e:cc secret&+"
IMPLICIT_ID, PKCE_ID = "e2e-implicit-client", "e2e-pkce-client"


def _seed(ports: dict[str, int]) -> str:
    def uris(*names: str) -> str:
        return json.dumps([f"{'https' if n.endswith('https') else 'http'}://localhost:{ports[n]}" for n in names])
    return f'''
[[users]]
id = "11111111-2222-4333-8444-555555555555"
name = "Alice E2E"
email = "alice@example.com"
username = "{ALICE[0]}"
password = "{ALICE[1]}"

[[clients]]
id = "{CC_ID}"
secret = "{CC_SECRET}"
name = "E2E client credentials"
authorized_grant_type = "CLIENT-CREDENTIALS"
registered_redirect_uri = []
scope = []
access_token_validity_seconds = 3600

[[clients]]
id = "{IMPLICIT_ID}"
secret = ""
name = "E2E implicit"
authorized_grant_type = "TOKEN"
registered_redirect_uri = {uris("implicit", "implicit_https")}
scope = []
access_token_validity_seconds = 3600

[[clients]]
id = "{PKCE_ID}"
secret = ""
name = "E2E PKCE"
authorized_grant_type = "CODE"
registered_redirect_uri = {uris("pkce", "pkce_https")}
scope = []
access_token_validity_seconds = 3600
'''


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    base = tmp_path_factory.mktemp("idp")
    ports = {name: free_port() for name in ("implicit", "implicit_https", "pkce", "pkce_https")}
    (base / "seed.toml").write_text(_seed(ports))
    app = create_app({"SEED": str(base / "seed.toml"), "DB": str(base / "idp.sqlite3")})
    with wsgi_server(app) as url:
        yield url, ports


@pytest.fixture
def env(tmp_path):
    config = tmp_path / "gc" / "config.toml"
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GENESYSCLOUD_", "GCLOGIN_", "MOCK_IDP_", "SERVICE_"))}
    clean.update(GCLOGIN_CONFIG=str(config), GENESYSCLOUD_BROWSER="", HOME=str(tmp_path / "home"))
    return clean


def cfg(env) -> ConfigStore:
    return ConfigStore(env["GCLOGIN_CONFIG"])


def invoke(env, *args):
    return CliRunner().invoke(cli, ["--config", env["GCLOGIN_CONFIG"], *args])


def browser_login(env, args, user=ALICE):
    """Run a CLI command that logs in through the browser; play the browser; return (rc, out, err, location)."""
    proc = CliProcess(args, env)
    try:
        url = proc.login_url()
        location = FakeBrowser().sign_in(url, *user)
        page = FakeBrowser().deliver(location)
        assert page.status_code == 200, page.text
        assert "Login complete" in page.text
        rc, out, err = proc.finish()
    finally:
        proc.kill()
    return rc, out, err, location, url


def assert_no_secrets(text, *secrets):
    for secret in secrets:
        if secret:
            assert secret not in text


# --- client credentials -----------------------------------------------------------------

def test_client_credentials_profile_new_verifies_then_users_me_needs_a_user(idp, env):
    base, _ = idp
    result = invoke(env, "profiles", "new", "--name", "cc", "--environment", base, "--grant-type",
                    "client-credentials", "--client-id", CC_ID, "--client-secret", CC_SECRET, "--yes")
    assert result.exit_code == 0, result.output
    assert "Profile cc saved." in result.output
    saved = cfg(env).get("cc")
    assert saved.token_data.is_valid() and saved.client_secret == CC_SECRET
    assert_no_secrets(result.output, CC_SECRET, saved.token_data.access_token)

    me = invoke(env, "users", "me", "get", "-p", "cc")
    assert me.exit_code == 1
    assert "This request requires a user context. Client credentials cannot be used" in me.output
    assert cfg(env).get("cc").token_data == saved.token_data  # cached token reused, not replaced


def test_wrong_secret_saves_nothing(idp, env):
    base, _ = idp
    result = invoke(env, "profiles", "new", "--name", "cc", "--environment", base, "--grant-type", "1",
                    "--client-id", CC_ID, "--client-secret", "wrong-secret", "--yes")
    assert result.exit_code == 1
    assert "The credentials provided are not valid." in result.output
    assert "wrong-secret" not in result.output
    assert not os.path.exists(env["GCLOGIN_CONFIG"])


def test_expired_or_revoked_cc_token_triggers_a_new_login(idp, env):
    base, _ = idp
    store = cfg(env)
    old = TokenData("stale", "bearer", 60, "", datetime.now(UTC) - timedelta(minutes=5))
    store.save(Profile(name="DEFAULT", grant_type=GrantType.CLIENT_CREDENTIALS, client_id=CC_ID,
                       client_secret=CC_SECRET, environment=base, token_data=old))
    invoke(env, "users", "me", "get")
    fresh = store.get("DEFAULT").token_data
    assert fresh.access_token != "stale" and fresh.is_valid()

    # revoked on the server but unexpired locally: the 401 triggers one new login
    from service import api
    from service.environments import resolve
    api.revoke_token(resolve(base), fresh.access_token)
    result = invoke(env, "users", "me", "get")
    assert "requires a user context" in result.output
    newer = store.get("DEFAULT").token_data
    assert newer.access_token not in (fresh.access_token, "stale")


def test_env_overrides_need_no_config_file(idp, env):
    base, _ = idp
    env_cc = {"GENESYSCLOUD_REGION": base, "GENESYSCLOUD_OAUTHCLIENT_ID": CC_ID,
              "GENESYSCLOUD_OAUTHCLIENT_SECRET": CC_SECRET}
    result = CliRunner().invoke(cli, ["--config", env["GCLOGIN_CONFIG"], "users", "me", "get"], env=env_cc)
    assert result.exit_code == 1 and "requires a user context" in result.output
    assert not os.path.exists(env["GCLOGIN_CONFIG"])
    bad = CliRunner().invoke(cli, ["users", "me", "get"], env={**env_cc, "GENESYSCLOUD_OAUTHCLIENT_SECRET": "x"})
    assert bad.exit_code == 1 and "invalid_client" in bad.output


# --- PKCE ---------------------------------------------------------------------------------

def test_pkce_profile_new_users_me_and_logout(idp, env):
    base, ports = idp
    rc, out, err, location, url = browser_login(env, [
        "profiles", "new", "--name", "web", "--environment", base, "--grant-type", "pkce",
        "--client-id", PKCE_ID, "--redirect-port", str(ports["pkce"]), "--no-https", "--no-browser", "--yes"])
    assert rc == 0, err
    assert "Profile web saved." in out and "Redirect URI: http://localhost:" in out
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 22
    assert query["redirect_uri"] == [f"http://localhost:{ports['pkce']}"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = cfg(env).get("web").token_data.access_token
    assert_no_secrets(out + err, code, token)

    me = invoke(env, "users", "me", "get", "-p", "web")
    assert me.exit_code == 0, me.output
    assert json.loads(me.output)["email"] == "alice@example.com"

    # the loopback server is gone (R19): replaying the callback reaches nothing
    with pytest.raises(requests.ConnectionError):
        requests.get(location, timeout=5)

    out = invoke(env, "logout", "-p", "web")
    assert out.exit_code == 0 and "Logged out" in out.output
    assert cfg(env).get("web").token_data is None
    revoked = requests.get(base + "/api/v2/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert revoked.status_code == 401
    again = invoke(env, "users", "me", "get", "-p", "web")
    assert again.exit_code == 1 and "run gclogin login -p web" in again.output


def test_pkce_over_https_loopback(idp, env):
    base, ports = idp
    cfg(env).save(Profile(name="sec", grant_type=GrantType.PKCE, client_id=PKCE_ID, environment=base,
                          redirect_uri=f"https://localhost:{ports['pkce_https']}", secure_login_enabled=True))
    rc, out, err, location, _ = browser_login(env, ["login", "-p", "sec", "--no-browser"])
    assert rc == 0, err
    assert urlsplit(location)[:2] == ("https", f"localhost:{ports['pkce_https']}") and "code=" in location
    assert cfg(env).get("sec").token_data.is_valid()


# --- implicit -----------------------------------------------------------------------------

def test_implicit_login_relays_fragment_by_post(idp, env):
    base, ports = idp
    store = cfg(env)
    store.save(Profile(name="imp", grant_type=GrantType.IMPLICIT, client_id=IMPLICIT_ID, environment=base,
                       redirect_uri=f"http://localhost:{ports['implicit']}"))
    before_other = None
    store.save(Profile(name="zz", grant_type=GrantType.NONE, access_token="x"))
    before_other = env_text(env).split("[zz]")[1]
    rc, out, err, location, url = browser_login(env, ["login", "-p", "imp", "--no-browser"])
    assert rc == 0, err
    assert parse_qs(urlsplit(url).query)["response_type"] == ["token"]
    fragment = parse_qs(urlsplit(location).fragment)
    assert urlsplit(location).query == ""  # the token is only in the fragment
    token = store.get("imp").token_data
    assert token.access_token == fragment["access_token"][0] and token.is_valid()
    assert_no_secrets(out + err, token.access_token)
    assert env_text(env).split("[zz]")[1] == before_other
    me = invoke(env, "users", "me", "get", "-p", "imp")
    assert json.loads(me.output)["email"] == "alice@example.com"


def env_text(env):
    with open(env["GCLOGIN_CONFIG"]) as fh:
        return fh.read()


def _start_login(env, idp, name="imp", grant=GrantType.IMPLICIT, port_key="implicit", timeout="60"):
    base, ports = idp
    client = IMPLICIT_ID if grant is GrantType.IMPLICIT else PKCE_ID
    cfg(env).save(Profile(name=name, grant_type=grant, client_id=client, environment=base,
                          redirect_uri=f"http://localhost:{ports[port_key]}"))
    before = env_text(env)
    proc = CliProcess(["login", "-p", name, "--no-browser", "--timeout", timeout], env)
    return proc, before


def test_wrong_state_is_refused_and_does_not_end_the_login(idp, env):
    """R20: a forged, missing or stale state gets a 400 and no token; the real response still works."""
    proc, before = _start_login(env, idp, timeout="60")
    try:
        url = proc.login_url()
        location = FakeBrowser().sign_in(url, *ALICE)
        for forged in (location.replace("state=", "state=x"), location.split("&state=")[0]):
            page = FakeBrowser().deliver(forged)
            assert page.status_code == 400 and "state" in page.text
        assert env_text(env) == before and proc.proc.poll() is None
        page = FakeBrowser().deliver(location)
        assert page.status_code == 200
        rc, _, err = proc.finish()
    finally:
        proc.kill()
    assert rc == 0, err
    assert err.count("Refused a response without this login's state") == 1
    assert cfg(env).get("imp").token_data.access_token == parse_qs(urlsplit(location).fragment)["access_token"][0]


def test_wrong_state_then_timeout_leaves_profile_untouched(idp, env):
    proc, before = _start_login(env, idp, timeout="6")  # room to sign in on a busy machine
    try:
        url = proc.login_url()
        location = FakeBrowser().sign_in(url, *ALICE)
        assert FakeBrowser().deliver(location.replace("state=", "state=x")).status_code == 400
        rc, _, err = proc.finish()
    finally:
        proc.kill()
    assert rc == 1 and "no login response within 6 s" in err and "Traceback" not in err
    assert env_text(env) == before


def test_error_fragment_is_shown_escaped_and_exits_nonzero(idp, env):
    proc, before = _start_login(env, idp)
    try:
        url = proc.login_url()
        state = parse_qs(urlsplit(url).query)["state"][0]
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        page = FakeBrowser().deliver(
            f"{redirect}/#error=access_denied&error_description=%3Cimg+src%3Dx%3E+denied&state={state}")
        assert page.status_code == 400
        assert "&lt;img src=x&gt; denied" in page.text and "<img" not in page.text
        rc, _, err = proc.finish()
    finally:
        proc.kill()
    assert rc == 1 and "access_denied" in err
    assert env_text(env) == before


def test_timeout_has_a_clear_message(idp, env):
    proc, before = _start_login(env, idp, timeout="1")
    try:
        rc, _, err = proc.finish()
    finally:
        proc.kill()
    assert rc == 1 and "no login response within 1 s" in err
    assert env_text(env) == before


def test_redirect_uri_mismatch_is_refused_before_the_browser_in_one_line(idp, env):
    """Issue 19: the CLI sends the authorize request first; the IdP's error page (R4: no
    redirect) ends the login at once, naming the registered ports, and no URL is printed."""
    base, ports = idp
    port = free_port()
    cfg(env).save(Profile(name="mis", grant_type=GrantType.PKCE, client_id=PKCE_ID, environment=base,
                          redirect_uri=f"http://localhost:{port}"))
    proc = CliProcess(["login", "-p", "mis", "--no-browser", "--timeout", "300"], env)
    try:
        rc, _, err = proc.finish()
    finally:
        proc.kill()
    assert rc == 1 and "oauth/authorize" not in err
    (line,) = [x for x in err.splitlines() if x.startswith("Error: ")]
    assert line.startswith(f"Error: the login server {base} refused this login before the browser opened: ")
    assert f"http://localhost:{port}" in line and "no login response" not in err


def test_pkce_replayed_code_callback_is_refused(idp, env):
    """Two deliveries of the same callback while the server is up: the second gets 400 (R21)."""
    from service.loopback.handler import create_loopback_app
    from service.oauth import start_login
    from service.environments import resolve
    base, ports = idp
    pending = start_login(GrantType.PKCE, client_id=PKCE_ID, redirect_uri=f"http://localhost:{ports['pkce']}",
                          endpoints=resolve(base))
    app = create_loopback_app(pending, lambda outcome: None)
    location = FakeBrowser().sign_in(pending.authorize_url(), *ALICE)
    path = "/?" + urlsplit(location).query
    first = app.get(path)
    assert first.status == 200 and first.outcome.access_token  # reported once the page is sent
    second = app.get(path)
    assert second.status == 400 and second.outcome is None


# --- Ctrl-C, the HTTPS certificate's temp dir (R19, R29), failed logins keep the profile ----------

def _private_tmp(env, tmp_path):
    """Point the child's TMPDIR at an empty directory we can inspect for leftovers."""
    tmp = tmp_path / "child-tmp"
    tmp.mkdir()
    return {**env, "TMPDIR": str(tmp)}, tmp


def _loopback_port(proc) -> int:
    for line in proc.err:
        if "Waiting for the login at" in line:
            return int(line.split("localhost:")[1].split()[0])
    raise AssertionError(f"no loopback address printed: {proc.err}")


def _refused(port: int) -> bool:
    import socket
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            try:
                s.connect((host, port))
            except OSError:
                continue
            return False
    return True


def _served(port: int, secure: bool) -> None:
    """One GET of the relay page, answered once the loopback server is serving."""
    scheme = "https" if secure else "http"
    assert requests.get(f"{scheme}://127.0.0.1:{port}/", timeout=10, verify=False).status_code == 200


@pytest.mark.parametrize("command, secure", [("login", False), ("login", True), ("profiles new", True)])
def test_ctrl_c_cancels_cleanly(idp, env, tmp_path, command, secure):
    """SIGINT while waiting: one clear line, exit 130, port closed, profile untouched, no cert left (R19, R29)."""
    import signal
    base, ports = idp
    child_env, tmp = _private_tmp(env, tmp_path)
    # a registered port: the IdP matches it exactly, and the login checks that before it waits
    port = ports["pkce_https" if secure else "pkce"]
    cfg(env).save(Profile(name="web", grant_type=GrantType.PKCE, client_id=PKCE_ID, environment=base,
                          redirect_uri=f"{'https' if secure else 'http'}://localhost:{port}", secure_login_enabled=secure,
                          token_data=TokenData.issued("still-valid-token", "bearer", 3600)))
    before = env_text(env)
    args = (["login", "-p", "web", "--no-browser"] if command == "login" else
            ["profiles", "new", "--yes", "--name", "web", "--environment", base, "--grant-type", "pkce",
             "--client-id", PKCE_ID, "--redirect-port", str(port), "--https" if secure else "--no-https",
             "--no-browser"])
    proc = CliProcess(args, child_env)
    try:
        proc.login_url()
        port = _loopback_port(proc)
        assert not _refused(port)
        _served(port, secure)  # the certificate is made after the URL is printed: wait for it
        assert list(tmp.iterdir()) == []  # the certificate's key is not on disk while we wait
        proc.proc.send_signal(signal.SIGINT)
        rc, out, err = proc.finish()
    finally:
        proc.kill()
    assert rc == 130, err
    assert err.splitlines()[-1] == "Error: login cancelled (Ctrl-C); nothing was saved"
    assert "Traceback" not in err and "Aborted" not in err
    assert _refused(port)
    assert env_text(env) == before
    assert list(tmp.iterdir()) == []


def _https_profile(env, idp, name="sec"):
    base, ports = idp
    cfg(env).save(Profile(name=name, grant_type=GrantType.PKCE, client_id=PKCE_ID, environment=base,
                          redirect_uri=f"https://localhost:{ports['pkce_https']}", secure_login_enabled=True))


def test_https_cert_dir_is_gone_after_success(idp, env, tmp_path):
    _https_profile(env, idp)
    child_env, tmp = _private_tmp(env, tmp_path)
    rc, _, err, _, _ = browser_login(child_env, ["login", "-p", "sec", "--no-browser"])
    assert rc == 0, err
    assert list(tmp.iterdir()) == []


def test_https_cert_dir_is_gone_after_error(idp, env, tmp_path):
    _https_profile(env, idp)
    child_env, tmp = _private_tmp(env, tmp_path)
    before = env_text(env)
    proc = CliProcess(["login", "-p", "sec", "--no-browser", "--timeout", "60"], child_env)
    try:
        url = proc.login_url()
        query = parse_qs(urlsplit(url).query)
        page = FakeBrowser().deliver(f"{query['redirect_uri'][0]}/?error=access_denied&state={query['state'][0]}")
        assert page.status_code == 400
        rc, _, err = proc.finish()
    finally:
        proc.kill()
    assert rc == 1 and "access_denied" in err
    assert list(tmp.iterdir()) == [] and env_text(env) == before


def test_https_cert_dir_is_gone_after_timeout(idp, env, tmp_path):
    _https_profile(env, idp)
    child_env, tmp = _private_tmp(env, tmp_path)
    proc = CliProcess(["login", "-p", "sec", "--no-browser", "--timeout", "1"], child_env)
    try:
        rc, _, err = proc.finish()
    finally:
        proc.kill()
    assert rc == 1 and "no login response within 1 s" in err
    assert list(tmp.iterdir()) == []


def test_failed_profiles_new_leaves_the_existing_profile_byte_for_byte(idp, env):
    base, _ = idp
    ok = invoke(env, "profiles", "new", "--name", "cc", "--environment", base, "--grant-type", "1",
                "--client-id", CC_ID, "--client-secret", CC_SECRET, "--yes")
    assert ok.exit_code == 0 and cfg(env).get("cc").token_data.is_valid()
    before = open(env["GCLOGIN_CONFIG"], "rb").read()
    failed = invoke(env, "profiles", "new", "--name", "cc", "--environment", base, "--grant-type", "1",
                    "--client-id", CC_ID, "--client-secret", "wrong-secret", "--yes")
    assert failed.exit_code == 1 and "The credentials provided are not valid." in failed.stderr
    assert "wrong-secret" not in failed.output
    assert open(env["GCLOGIN_CONFIG"], "rb").read() == before


def test_debug_output_never_shows_secrets(idp, env):
    base, _ = idp
    result = invoke(env, "--debug", "profiles", "new", "--name", "cc", "--environment", base, "--grant-type", "1",
                    "--client-id", CC_ID, "--client-secret", CC_SECRET, "--yes")
    assert result.exit_code == 0, result.output
    token = cfg(env).get("cc").token_data.access_token
    me = invoke(env, "--debug", "users", "me", "get", "-p", "cc")
    assert "debug: gclogin.api: GET" in me.stderr and "debug: gclogin.api: POST" in result.stderr
    assert_no_secrets(result.output + me.output, CC_SECRET, token)
