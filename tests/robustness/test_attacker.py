"""An attacker page on another port cannot complete a login, and the IdP is strict.

- R4/R17/R27: the mock IdP refuses redirect URIs that differ from a registered one only
  by a trailing slash, the host's case, userinfo or a fragment (also under the RFC 8252
  any-port rule), with an error page and no redirect.
- R20/R21/CSRF: a cross-site POST to the web service's callback without the victim's
  state cannot finish the victim's login (nor plant the attacker's token), forms need
  the CSRF token, the IdP's login form needs its CSRF token and browser binding.
- CORS: no Access-Control-Allow-Origin for a foreign origin on the token endpoint, the
  API, the web callback relay or the CLI's loopback relay.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from mock_idp import create_app as create_idp
from mock_idp.testing import add_redirect_uris, app_config, demo_seed, issue_token, parse_login_form
from service.config_store import ConfigStore
from service.environments import issuer_id
from service.profiles import GrantType, Profile
from devtools.servers import free_port, wsgi_server

from .browser import sign_in
from .loopback_login import LoopbackLogin

SEED = demo_seed()
IMPLICIT = next(c for c in SEED.clients if c.authorized_grant_type == "TOKEN")
ADMIN = next(c for c in SEED.clients if "admin" in c.roles)
ATTACKER = f"http://127.0.0.1:{free_port()}"   # the attacker page's origin
TIMEOUT = 10.0

NEAR_MISSES = {
    "trailing slash": ("http://localhost:8080", "http://localhost:8080/"),
    "trailing slash on a path": ("http://127.0.0.1:8080/callback/127.0.0.1_8081", "http://127.0.0.1:8080/callback/127.0.0.1_8081/"),
    "path case": ("http://localhost:8080/callback/localhost_8081", "http://localhost:8080/Callback/localhost_8081"),
    "host case": ("http://localhost:8080", "http://LOCALHOST:8080"),
    "host case (mixed)": ("http://localhost:8080", "http://LocalHost:8080"),
    "scheme case": ("http://localhost:8080", "HTTP://localhost:8080"),
    "userinfo": ("http://localhost:8080", "http://user@localhost:8080"),
    "userinfo with password": ("http://127.0.0.1:8080", "http://a:b@127.0.0.1:8080"),
    "userinfo hiding another host": ("http://localhost:8080", "http://localhost:8080@evil.example"),
    "fragment": ("http://localhost:8080", "http://localhost:8080#x"),
    "empty fragment": ("http://localhost:8080", "http://localhost:8080#"),
    "fragment on a path": ("http://127.0.0.1:8080/callback/127.0.0.1_8081", "http://127.0.0.1:8080/callback/127.0.0.1_8081#frag"),
    "suffix host": ("http://localhost:8080", "http://localhost.evil.example:8080"),
    "another issuer's callback": ("http://127.0.0.1:8080/callback/127.0.0.1_8081",
                                  "http://127.0.0.1:8080/callback/127.0.0.1_8082"),
}


@pytest.fixture(scope="module", params=[False, True], ids=["exact", "any-port"])
def idp_client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    app = create_idp(app_config(tmp_path_factory.mktemp("idp"), LOOPBACK_ANY_PORT=request.param))
    return app.test_client()


@pytest.mark.parametrize(("registered", "requested"), NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_idp_refuses_near_miss_redirect_uri(idp_client, registered: str, requested: str) -> None:
    """R4: an error page, never a redirect, for a URI that is almost a registered one."""
    assert registered in IMPLICIT.registered_redirect_uri
    query = {"response_type": "token", "client_id": IMPLICIT.id, "redirect_uri": requested,
             "state": "attacker"}
    response = idp_client.get("/oauth/authorize?" + urlencode(query))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "Location" not in response.headers
    assert "redirect" in response.get_data(as_text=True).lower()


def test_idp_accepts_the_registered_uri(idp_client) -> None:
    """The control case: the exact registered URI gets the login form."""
    query = {"response_type": "token", "client_id": IMPLICIT.id,
             "redirect_uri": "http://localhost:8080", "state": "s"}
    assert idp_client.get("/oauth/authorize?" + urlencode(query)).status_code == 200


# --- the web service and the mock IdP, on 127.0.0.1 ----------------------------------

@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("stack")
    idp_app = create_idp(app_config(tmp, LOOPBACK_ANY_PORT=True))
    with wsgi_server(idp_app) as idp:
        add_redirect_uris(idp_app, f"http://127.0.0.1:8080/callback/{issuer_id(idp)}")
        from service.web import create_app as create_web

        port = free_port()
        config = tmp / "gc" / "config.toml"
        web_app = create_web({"PUBLIC_URL": f"http://127.0.0.1:{port}", "IDP_URL": idp,
                              "CONFIG_PATH": str(config), "SECRET_KEY": "k" * 64})
        with wsgi_server(web_app, port=port) as web:
            ConfigStore(config).save(Profile(name="victim", grant_type=GrantType.IMPLICIT,
                                             client_id=IMPLICIT.id, environment=idp))
            yield {"idp": idp, "web": web, "config": config, "idp_app": idp_app,
                   "callback": f"{web}/callback/{issuer_id(idp)}"}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _start_web_login(stack: dict, session: requests.Session) -> str:
    """The victim presses "log in": returns the IdP authorize URL the browser is sent to."""
    page = session.get(stack["web"] + "/profiles/victim", timeout=TIMEOUT)
    assert page.status_code == 200
    r = session.post(stack["web"] + "/profiles/victim/login", data={"csrf_token": _csrf(page.text)},
                     headers={"Origin": stack["web"]}, timeout=TIMEOUT, allow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return r.headers["Location"]


def _token_of_victim(stack: dict) -> str:
    data = ConfigStore(stack["config"]).get("victim").token_data
    return data.access_token if data else ""


def _attacker_token(stack: dict) -> str:
    return issue_token(stack["idp_app"], IMPLICIT.id, SEED.users[1].id)


def _cross_site_post(stack: dict, session: requests.Session, fragment: str) -> requests.Response:
    """The attacker page's auto-submitting form, assuming the worst: the cookie goes along."""
    return session.post(stack["callback"], data={"fragment": fragment},
                        headers={"Origin": ATTACKER, "Referer": ATTACKER + "/"},
                        timeout=TIMEOUT, allow_redirects=False)


@pytest.mark.slow
def test_web_cross_site_callback_cannot_complete_login(stack: dict) -> None:
    victim = requests.Session()
    authorize = _start_web_login(stack, victim)
    # The attacker runs a login of their own, so holds a valid state — for their session.
    attacker = requests.Session()
    attacker_state = dict(p.split("=", 1) for p in urlsplit(_start_web_login(stack, attacker))
                          .query.split("&"))["state"]
    planted = _attacker_token(stack)
    base = f"access_token={planted}&token_type=bearer&expires_in=3600"
    for fragment in (base, base + "&state=wrong", base + "&state=" + attacker_state,
                     "error=access_denied&state=" + attacker_state):
        r = _cross_site_post(stack, victim, fragment)
        assert r.status_code >= 400, (fragment, r.status_code)
        assert _token_of_victim(stack) != planted
    # The victim's own login is still waiting and completes.
    location = sign_in(authorize)
    fragment = urlsplit(location).fragment
    done = victim.post(stack["callback"], data={"fragment": fragment}, timeout=TIMEOUT,
                       headers={"Origin": stack["web"]}, allow_redirects=False)
    assert done.status_code == 303, done.text[:300]
    token = _token_of_victim(stack)
    assert token and token != planted and token in fragment


@pytest.mark.slow
def test_web_forms_refuse_posts_without_csrf_token(stack: dict) -> None:
    session = requests.Session()
    session.get(stack["web"] + "/profiles/victim", timeout=TIMEOUT)   # has a session, no token sent
    before = stack["config"].read_bytes()
    for path, data in [("/profiles/victim/login", {}), ("/profiles/victim/logout", {}),
                       ("/profiles/new", {"name": "evil", "grant_type": "1", "client_id": "x",
                                          "client_secret": "y", "environment": stack["idp"]}),
                       ("/profiles/victim/login", {"csrf_token": "forged"})]:
        # Same origin, so the CSRF token is what refuses (the Origin check is tested apart)
        r = session.post(stack["web"] + path, data=data, headers={"Origin": stack["web"]},
                         timeout=TIMEOUT, allow_redirects=False)
        assert r.status_code == 400, (path, r.status_code)
    assert stack["config"].read_bytes() == before


@pytest.mark.slow
def test_web_session_cookie_is_not_sent_cross_site(stack: dict) -> None:
    r = requests.get(stack["web"] + "/profiles/victim", timeout=TIMEOUT)
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and re.search(r"SameSite=(Lax|Strict)", cookie), cookie


@pytest.mark.slow
def test_idp_login_form_needs_csrf_and_browser_binding(stack: dict) -> None:
    """Login CSRF: the attacker posts the IdP's login form from their page."""
    query = {"response_type": "token", "client_id": IMPLICIT.id,
             "redirect_uri": "http://localhost:8080", "state": "s"}
    victim = requests.Session()
    page = victim.get(stack["idp"] + "/oauth/authorize?" + urlencode(query), timeout=TIMEOUT)
    form = parse_login_form(page.text)
    user = SEED.users[1]
    creds = {"username": user.username, "password": user.password}
    # No binding cookie (the attacker's own browser), then the victim's cookie without CSRF.
    for session, fields in ((requests.Session(), {**form.fields, **creds}),
                            (victim, {**form.fields, "csrf_token": "forged", **creds})):
        r = session.post(stack["idp"] + "/oauth/authorize", data=fields,
                         headers={"Origin": ATTACKER}, timeout=TIMEOUT, allow_redirects=False)
        assert r.status_code in (400, 403) and "Location" not in r.headers, r.status_code


def _assert_no_cors(response: requests.Response, where: str) -> None:
    allowed = response.headers.get("Access-Control-Allow-Origin")
    assert allowed in (None, "null") or (allowed != "*" and allowed != ATTACKER), \
        f"{where}: Access-Control-Allow-Origin: {allowed}"
    assert response.headers.get("Access-Control-Allow-Credentials") != "true" or allowed is None, where


@pytest.mark.slow
def test_no_cors_for_foreign_origins(stack: dict) -> None:
    basic = requests.auth.HTTPBasicAuth(ADMIN.id, ADMIN.secret)
    token = issue_token(stack["idp_app"], IMPLICIT.id, SEED.users[0].id)
    preflight = {"Origin": ATTACKER, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    checks = [
        ("IdP token preflight", requests.options(stack["idp"] + "/oauth/token", headers=preflight,
                                                 timeout=TIMEOUT)),
        ("IdP token POST", requests.post(stack["idp"] + "/oauth/token", auth=basic,
                                         data={"grant_type": "client_credentials"},
                                         headers={"Origin": ATTACKER}, timeout=TIMEOUT)),
        ("IdP users/me", requests.get(stack["idp"] + "/api/v2/users/me", timeout=TIMEOUT,
                                      headers={"Origin": ATTACKER, "Authorization": f"Bearer {token}"})),
        ("IdP users/me preflight", requests.options(stack["idp"] + "/api/v2/users/me",
                                                    headers=preflight, timeout=TIMEOUT)),
        ("web callback preflight", requests.options(stack["callback"], headers=preflight,
                                                    timeout=TIMEOUT)),
        ("web callback POST", requests.post(stack["callback"], data={"fragment": "x"},
                                            headers={"Origin": ATTACKER}, timeout=TIMEOUT)),
    ]
    for where, response in checks:
        if where.startswith("IdP"):
            # The IdP's token and API endpoints are open to any origin by design (issue 15:
            # browser SDKs; MOCK_IDP_CORS_ORIGINS narrows it): they take credentials in
            # headers, never cookies, so no credentialed CORS is ever allowed.
            assert "Access-Control-Allow-Credentials" not in response.headers, where
        else:
            _assert_no_cors(response, where)
    assert checks[1][1].status_code == 200  # the token request itself worked: CORS is the point


@pytest.mark.slow
def test_no_cors_on_cli_loopback_relay(idp_url: str) -> None:
    login = LoopbackLogin(GrantType.IMPLICIT, IMPLICIT.id, idp_url)
    preflight = {"Origin": ATTACKER, "Access-Control-Request-Method": "POST"}
    _assert_no_cors(requests.options(login.redirect_uri + "/", headers=preflight, timeout=TIMEOUT),
                    "loopback preflight")
    _assert_no_cors(requests.get(login.redirect_uri + "/", headers={"Origin": ATTACKER},
                                 timeout=TIMEOUT), "loopback relay page")
    # Finish the login properly so the server shuts down.
    location = sign_in(login.authorize_url)
    requests.post(login.redirect_uri + "/", data={"fragment": urlsplit(location).fragment},
                  timeout=TIMEOUT)
    login.outcome()
