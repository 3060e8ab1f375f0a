"""Genesys's JavaScript SDK in a browser: a static single-page app on another loopback
origin logs in against the mock with loginImplicitGrant and loginPKCEGrant, shows the
user from getUsersMe, and logs out with logout(). Any console error, failed request or
HTTP error answer fails the test (the CORS failures of issue 15 showed up exactly so).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, Response, send_from_directory

from devtools.servers import wsgi_server
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS  # noqa: F401
from tests.browser.conftest import browser  # noqa: F401  the shared chromium fixture

from .conftest import ALICE, TIMEOUT, admin_token
from .models import SDK_DIR, missing_sdk_message

pytestmark = pytest.mark.slow
SPA_DIR = SDK_DIR.parents[2] / "spa"
BUNDLE = SDK_DIR / "dist" / "web-cjs" / "purecloud-platform-client-v2.min.js"


def spa_app(config: dict) -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.get("/config.js")
    def config_js() -> Response:
        return Response(f"window.MOCK = {json.dumps(config)};", mimetype="text/javascript")

    @app.get("/sdk.js")
    def sdk() -> Response:
        return send_from_directory(BUNDLE.parent, BUNDLE.name, mimetype="text/javascript")

    @app.get("/<name>")
    def page(name: str) -> Response:
        return send_from_directory(SPA_DIR, name)
    return app


def make_client(base: str, grant: str, redirects: list[str]) -> str:
    response = requests.post(base + "/api/v2/oauth/clients", timeout=TIMEOUT,
                             headers={"Authorization": f"Bearer {admin_token(base)}"},
                             json={"name": f"SPA {grant}", "authorizedGrantType": grant,
                                   "registeredRedirectUri": redirects})
    assert response.status_code == 200, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def spa(mock_url) -> Iterator[str]:
    if not BUNDLE.exists():
        pytest.fail(missing_sdk_message(), pytrace=False)
    mock = urlsplit(mock_url)
    config: dict = {"host": mock.hostname, "protocol": mock.scheme, "port": mock.port}
    with wsgi_server(spa_app(config)) as spa_url:
        config["implicitClientId"] = make_client(mock_url, "TOKEN", [
            f"{spa_url}/implicit.html", f"{spa_url}/signed-out.html"])
        config["pkceClientId"] = make_client(mock_url, "CODE", [
            f"{spa_url}/pkce.html", f"{spa_url}/signed-out.html"])
        yield spa_url


class Problems:
    """Everything that went wrong, as the browser saw it."""

    def __init__(self, page) -> None:
        self.found: list[str] = []
        page.on("console", lambda m: self.found.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.found.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.found.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", lambda r: self.found.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)


@pytest.fixture
def page(browser) -> Iterator:  # noqa: F811
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in_on_the_mock(page, mock_url: str) -> None:
    page.wait_for_url(f"{mock_url}/oauth/authorize*")
    page.fill("#username", ALICE.username)
    page.fill("#password", ALICE.password)
    page.click("#login")


@pytest.mark.parametrize("flow", ["implicit", "pkce"])
def test_spa_logs_in_shows_the_user_and_logs_out(page, spa, mock_url, flow):
    problems = Problems(page)
    page.goto(f"{spa}/{flow}.html")
    sign_in_on_the_mock(page, mock_url)
    page.wait_for_function("document.getElementById('user').textContent"
                           " || document.getElementById('failure').textContent")
    assert page.inner_text("#failure") == ""
    assert page.inner_text("#user") == ALICE.name and page.inner_text("#email") == ALICE.email
    assert page.url.startswith(f"{spa}/{flow}.html")
    page.click("#logout")
    page.wait_for_url(f"{spa}/signed-out.html")
    assert page.inner_text("#signed-out") == "Signed out of the SPA"
    # The next login shows the mock's form again.
    page.goto(f"{spa}/{flow}.html")
    page.wait_for_url(f"{mock_url}/oauth/authorize*")
    assert page.locator("#password").count() == 1
    assert problems.found == []
