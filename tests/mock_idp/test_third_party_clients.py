"""Off-the-shelf OAuth clients (Authlib, requests-oauthlib) complete the flows against the mock."""
from __future__ import annotations

from urllib.parse import urljoin

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session as OAuthlibSession

from mock_idp import create_app
from mock_idp.testing import app_config, parse_login_form
from devtools.servers import wsgi_server

from .conftest import ALICE, CC, PKCE, REDIRECT

TIMEOUT = 10


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    app = create_app(app_config(tmp_path_factory.mktemp("third_party")))
    with wsgi_server(app) as url:
        yield url


def browser_login(authorize_url: str, base: str) -> str:
    """Submit the login form the way a user would; returns the redirect Location."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    form = parse_login_form(page.text)
    done = browser.post(urljoin(base, form.action), timeout=TIMEOUT, allow_redirects=False,
                        data={**form.fields, "username": ALICE.username,
                              "password": ALICE.password})
    assert done.status_code == 302, done.text
    return done.headers["Location"]


def test_authlib_client_credentials(base):
    with AuthlibSession(CC.id, CC.secret, token_endpoint_auth_method="client_secret_basic") as s:
        token = s.fetch_token(base + "/oauth/token", grant_type="client_credentials",
                              timeout=TIMEOUT)
        assert token["token_type"] == "bearer" and "refresh_token" not in token
        info = s.get(base + "/api/v2/tokens/me", timeout=TIMEOUT)
        assert info.status_code == 200 and info.json()["OAuthClient"]["id"] == CC.id


def test_authlib_client_secret_post(base):
    with AuthlibSession(CC.id, CC.secret, token_endpoint_auth_method="client_secret_post") as s:
        token = s.fetch_token(base + "/oauth/token", grant_type="client_credentials",
                              timeout=TIMEOUT)
        assert token["access_token"]


def test_authlib_code_with_pkce(base):
    verifier = generate_token(64)
    with AuthlibSession(PKCE.id, redirect_uri=REDIRECT, code_challenge_method="S256",
                        token_endpoint_auth_method="none") as s:
        url, state = s.create_authorization_url(base + "/oauth/authorize", code_verifier=verifier)
        location = browser_login(url, base)
        assert location.startswith(REDIRECT + "?")
        token = s.fetch_token(base + "/oauth/token", authorization_response=location,
                              state=state, code_verifier=verifier, timeout=TIMEOUT)
        me = s.get(base + "/api/v2/users/me", timeout=TIMEOUT)
        assert token["token_type"] == "bearer"
        assert me.status_code == 200 and me.json()["id"] == ALICE.id


def test_requests_oauthlib_client_credentials(base, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http to 127.0.0.1
    with OAuthlibSession(client=BackendApplicationClient(client_id=CC.id)) as s:
        token = s.fetch_token(base + "/oauth/token", client_id=CC.id, client_secret=CC.secret,
                              timeout=TIMEOUT)
        assert token["token_type"] == "bearer"
        assert s.get(base + "/api/v2/tokens/me", timeout=TIMEOUT).status_code == 200


def test_requests_oauthlib_code_with_pkce(base, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with OAuthlibSession(PKCE.id, redirect_uri=REDIRECT, pkce="S256") as s:
        url, _state = s.authorization_url(base + "/oauth/authorize")
        location = browser_login(url, base)
        token = s.fetch_token(base + "/oauth/token", authorization_response=location,
                              include_client_id=True, timeout=TIMEOUT)
        assert token["access_token"]
        me = s.get(base + "/api/v2/users/me", timeout=TIMEOUT)
        assert me.status_code == 200 and me.json()["username"] == ALICE.username
