"""One stylesheet for the web service, the mock IdP and the loopback pages (issue 19)."""
from __future__ import annotations

import re

from service import page_stylesheet
from service.callback import page_headers, result_page
from service.loopback.handler import LoopbackApp
from service.oauth import start_login
from service.environments import resolve
from service.profiles import GrantType


def test_the_stylesheet_loads_nothing_from_anywhere():
    css = page_stylesheet()
    assert "body" in css and "button" in css
    assert "@import" not in css and "url(" not in css and "</" not in css


def test_the_web_service_serves_the_same_file(tmp_path):
    from tests.web.conftest import make_app

    resp = make_app(tmp_path).test_client().get("/static/style.css")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == page_stylesheet()


def test_the_mock_idp_inlines_it_under_its_csp_nonce(tmp_path):
    from mock_idp import create_app

    app = create_app({"DB": str(tmp_path / "idp.sqlite3"), "TESTING": True})
    resp = app.test_client().get("/oauth/authorize?response_type=token&client_id=nope")
    nonce = re.search(r"style-src 'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">{page_stylesheet()}</style>' in resp.get_data(as_text=True)


def test_loopback_result_pages_inline_it_with_their_own_nonce():
    pending = start_login(GrantType.PKCE, client_id="c", redirect_uri="http://127.0.0.1:1",
                          endpoints=resolve("http://127.0.0.1:1"))
    page = LoopbackApp(pending, lambda outcome: None).get("/nowhere")
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    assert page.status == 404 and f'<style nonce="{nonce}">' in page.body
    assert page.headers == page_headers(nonce)
    # Without a nonce (the web service's callback result) the page stays as it was: no style.
    assert "<style" not in result_page(False, "Login failed", "x")
