"""Security headers, CSRF, and local-only redirects (R5, R27)."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.web.security import is_local_path, local_path_or

from .conftest import write_config

PAGES = ["/", "/profiles/new", "/healthz", "/profiles/nope", "/callback/127.0.0.1_9"]  # conftest's IDP


@pytest.mark.parametrize("path", PAGES)
def test_every_response_has_the_security_headers(client, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert re.search(r"script-src 'nonce-[A-Za-z0-9_-]{20,}'", csp)
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


def test_nonce_is_fresh_per_request(client):
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_relay_page_script_carries_the_response_nonce(client):
    resp = client.get("/callback/127.0.0.1_9")  # no query: the implicit relay page (R5, R22)
    nonce = re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
    page = resp.get_data(as_text=True)
    assert f'<script nonce="{nonce}">' in page
    assert "<script src" not in page and "http" not in page.split("<script")[1].split("</script>")[0]


def test_pages_load_nothing_from_other_origins(client):
    page = client.get("/profiles/new").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    # Scripts: the relay page's, and the profile form's own same-origin file (under the nonce).
    assert re.findall(r'<script[^>]*src="([^"]*)"', page) == ["/static/profile-form.js"]
    assert "<script" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/profiles/new", "/profiles/DEFAULT/login", "/profiles/DEFAULT/logout"])
@pytest.mark.parametrize("token", [None, "", "forged-token-forged-token-forged-token"])
def test_post_without_the_session_csrf_token_is_refused(app, client, path, token):
    write_config(app, '[DEFAULT]\ngrant_type = "1"\nclient_credentials = "x"\nclient_secret = "y"\n')
    client.get("/profiles/new")  # the session now has a real token, which we don't send
    data = {"name": "x", "grant_type": "1"} if token is None else {"csrf_token": token}
    resp = client.post(path, data=data)
    assert resp.status_code == 400
    assert "CSRF token" in resp.get_data(as_text=True)
    assert "x" not in app.extensions["gclogin"].store.names()


def test_csrf_token_of_another_session_is_refused(app, forms):
    token = forms.token()
    other = app.test_client()
    other.get("/profiles/new")
    resp = other.post("/profiles/new", data={"csrf_token": token, "name": "x"})
    assert resp.status_code == 400


def test_session_cookie_flags(client):
    resp = client.get("/profiles/new")
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("gclogin_web=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_behind_https(tmp_path):
    from .conftest import make_app

    client = make_app(tmp_path, PUBLIC_URL="https://gclogin.example").test_client()
    cookie = client.get("/profiles/new").headers["Set-Cookie"]
    assert cookie.startswith("__Host-gclogin_web=") and "Secure" in cookie


@pytest.mark.parametrize("target", [
    "//evil.example/x", "/\\evil.example", "https://evil.example/", "http:/evil", "javascript:alert(1)",
    "evil.example", "", None, "/ok\r\nLocation: https://evil", "\\\\evil", "/%0a", " //evil",
])
def test_login_next_never_redirects_off_site(app, forms, target):
    write_config(app, '[p]\ngrant_type = "0"\naccess_token = "tok"\n')
    data = {} if target is None else {"next": target}
    resp = forms.post("/profiles/p/login", data)
    assert resp.status_code == 303
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    if target == "/%0a":
        assert location == "/%0a"  # a percent-encoded path stays a local path


def test_login_next_keeps_a_local_path(app, forms):
    write_config(app, '[p]\ngrant_type = "0"\naccess_token = "tok"\n')
    resp = forms.post("/profiles/p/login", {"next": "/profiles/p/me?x=1"})
    assert resp.headers["Location"] == "/profiles/p/me?x=1"


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_is_local_path_never_lets_a_browser_leave_the_origin(target):
    from urllib.parse import urljoin, urlsplit

    if is_local_path(target):
        resolved = urlsplit(urljoin("http://app.test/base/", target.replace("\\", "/")))
        assert resolved.netloc == "app.test"
    assert local_path_or(target, "/home") in (target, "/home")


def test_static_files_may_be_cached_but_keep_the_other_headers(client):
    resp = client.get("/static/style.css")
    assert resp.status_code == 200
    assert "no-store" not in resp.headers.get("Cache-Control", "")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
