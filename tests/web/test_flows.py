"""The logins through real HTTP: the web service and the mock IdP served in threads.

Client credentials (server-side), implicit (fragment relay) and PKCE (code exchange);
who am I; log out revokes; state is single-use and bound to the browser session.
"""
from __future__ import annotations

import pytest
import requests

from mock_idp.testing import add_redirect_uris
from service.config_store import ConfigStore
from service.environments import issuer_id
from service.profiles import GrantType, Profile
from devtools.servers import free_port, wsgi_server

from .conftest import make_app
from .walker import ALICE, CC_CLIENT, IMPLICIT_CLIENT, PKCE_CLIENT, USER_CONTEXT_ERROR, Walker


@pytest.fixture(scope="module")
def idp_url(tmp_path_factory):
    from mock_idp import create_app as create_idp

    idp = create_idp({"DB": str(tmp_path_factory.mktemp("idp") / "idp.sqlite3"),
                      "LOOPBACK_ANY_PORT": True, "TESTING": True})
    with wsgi_server(idp) as url:
        # the web service's callback for this issuer, any 127.0.0.1 port (LOOPBACK_ANY_PORT)
        add_redirect_uris(idp, f"http://127.0.0.1:8080/callback/{issuer_id(url)}")
        yield url


@pytest.fixture
def stack(tmp_path, idp_url):
    port = free_port()
    app = make_app(tmp_path, IDP_URL=idp_url, PUBLIC_URL=f"http://127.0.0.1:{port}")
    with wsgi_server(app, port=port) as url:
        yield app, Walker(url)


def test_implicit_login_then_users_me_shows_alice(stack, idp_url):
    app, walker = stack
    start = walker.new_profile(name="imp", environment=idp_url, grant_type="2",
                               client_id=IMPLICIT_CLIENT)
    assert start.headers["Location"].startswith(idp_url + "/oauth/authorize?response_type=token")
    assert "imp" not in ConfigStore(app.config["CONFIG_PATH"]).names()  # saved after the login
    done = walker.browser_login(start)
    assert done.status_code == 303 and done.headers["Location"] == "/profiles/imp"
    profile = ConfigStore(app.config["CONFIG_PATH"]).get("imp")
    assert profile.token_data.is_valid() and profile.client_id == IMPLICIT_CLIENT
    me = walker.get("/profiles/imp/me")
    assert me.status_code == 200 and ALICE[0] in me.text and "Alice Example" in me.text
    assert profile.token_data.access_token not in walker.get("/profiles/imp").text


def test_pkce_login_keeps_the_verifier_server_side(stack, idp_url):
    app, walker = stack
    start = walker.new_profile(name="pk", environment=idp_url, grant_type="3", client_id=PKCE_CLIENT)
    authorize = start.headers["Location"]
    assert "code_challenge_method=S256" in authorize and "code_verifier" not in authorize
    cookie = walker.http.cookies.get("gclogin_web")
    record = app.extensions["gclogin"].pending
    import sqlite3

    verifier = sqlite3.connect(record.path).execute("SELECT data FROM pending").fetchone()[0]
    assert '"code_verifier": "' in verifier
    v = verifier.split('"code_verifier": "')[1].split('"')[0]
    assert len(v) >= 43 and v not in cookie  # never in the cookie, even encoded
    done = walker.browser_login(start)
    assert done.status_code == 303, done.text
    me = walker.get("/profiles/pk/me")
    assert me.status_code == 200 and ALICE[0] in me.text


def test_client_credentials_profile_gets_the_user_context_error(stack, idp_url):
    app, walker = stack
    created = walker.new_profile(name="cc", environment=idp_url, grant_type="1",
                                 client_id=CC_CLIENT[0], client_secret=CC_CLIENT[1])
    assert created.status_code == 303 and created.headers["Location"] == "/profiles/cc"
    me = walker.get("/profiles/cc/me")
    assert 400 <= me.status_code < 500
    assert USER_CONTEXT_ERROR in me.text
    assert CC_CLIENT[1] not in me.text and CC_CLIENT[1] not in walker.get("/profiles/cc").text


def test_wrong_client_secret_is_not_saved(stack, idp_url):
    app, walker = stack
    resp = walker.new_profile(name="cc", environment=idp_url, grant_type="1",
                              client_id=CC_CLIENT[0], client_secret="wrong-secret")
    assert resp.status_code == 400
    assert "The credentials provided are not valid. (OAuth error: invalid_client)" in resp.text
    # only the OAuth error code: no server internals (Authlib's description), no secret
    assert "authenticate" not in resp.text and "client_secret_basic" not in resp.text
    assert "wrong-secret" not in resp.text
    assert "cc" not in ConfigStore(app.config["CONFIG_PATH"]).names()


def test_wrong_client_secret_from_the_profile_page_reads_the_same(stack, idp_url):
    app, walker = stack
    ConfigStore(app.config["CONFIG_PATH"]).save(Profile(
        name="cc", grant_type=GrantType.CLIENT_CREDENTIALS, client_id=CC_CLIENT[0],
        client_secret="wrong-secret", environment=idp_url))
    resp = walker.login("cc")
    assert resp.status_code == 400 and "Login failed" in resp.text
    assert "The credentials provided are not valid. (OAuth error: invalid_client)" in resp.text
    assert "authenticate" not in resp.text and "wrong-secret" not in resp.text


def test_log_out_revokes_the_token(stack, idp_url):
    app, walker = stack
    walker.browser_login(walker.new_profile(name="imp", environment=idp_url, grant_type="2",
                                            client_id=IMPLICIT_CLIENT))
    token = ConfigStore(app.config["CONFIG_PATH"]).get("imp").token_data.access_token
    out = walker.post_form("/profiles/imp/logout", {}, token_page="/profiles/imp")
    assert out.status_code == 303
    assert ConfigStore(app.config["CONFIG_PATH"]).get("imp").token_data is None
    # The IdP refuses the revoked token.
    resp = requests.get(idp_url + "/api/v2/users/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)
    assert resp.status_code == 401
    assert walker.get("/profiles/imp/me").status_code == 401  # log in first


def test_relayed_fragment_is_single_use(stack, idp_url):
    app, walker = stack
    start = walker.new_profile(name="imp", environment=idp_url, grant_type="2",
                               client_id=IMPLICIT_CLIENT)
    location = walker.idp_sign_in(start.headers["Location"])
    assert walker.back_at_callback(location).status_code == 303
    again = walker.back_at_callback(location)
    assert again.status_code == 400 and "already used" in again.text


def test_callback_in_another_browser_session_is_refused(stack, idp_url):
    app, walker = stack
    start = walker.new_profile(name="imp", environment=idp_url, grant_type="2",
                               client_id=IMPLICIT_CLIENT)
    location = walker.idp_sign_in(start.headers["Location"])
    attacker = Walker(walker.web)  # no session cookie: the pending login is not theirs
    resp = attacker.back_at_callback(location)
    assert resp.status_code == 400
    assert "imp" not in ConfigStore(app.config["CONFIG_PATH"]).names()


def test_forged_state_is_refused_and_the_real_login_still_works(stack, idp_url):
    app, walker = stack
    start = walker.new_profile(name="imp", environment=idp_url, grant_type="2",
                               client_id=IMPLICIT_CLIENT)
    location = walker.idp_sign_in(start.headers["Location"])
    forged = walker.http.post(f"{walker.web}/callback/{issuer_id(idp_url)}", timeout=10, allow_redirects=False,
                              headers={"Origin": walker.web}, data={"fragment": "access_token=evil&token_type=bearer&state=forged"})
    assert forged.status_code == 400 and "state" in forged.text
    assert walker.back_at_callback(location).status_code == 303


def test_idp_error_response_is_shown(stack, idp_url):
    app, walker = stack
    walker.http.cookies.clear()
    write = ConfigStore(app.config["CONFIG_PATH"])

    write.save(Profile(name="bad", grant_type=GrantType.PKCE, client_id=IMPLICIT_CLIENT,
                       environment=idp_url))  # an implicit-only client asking for a code
    start = walker.login("bad")
    assert start.status_code == 303
    resp = walker.http.get(start.headers["Location"], timeout=10, allow_redirects=False)
    if resp.status_code in (302, 303):
        final = walker.back_at_callback(resp.headers["Location"])
        assert final.status_code == 400 and "unauthorized_client" in final.text
    else:
        assert resp.status_code == 400  # the IdP refused without redirecting (R4)
