"""Genesys's JavaScript SDK in a browser: a static single-page app on another loopback
origin logs in against the mock with loginImplicitGrant and loginPKCEGrant, shows the
user from getUsersMe, and logs out with logout(). Any console error, failed request or
HTTP error answer fails the test (the CORS failures of issue 15 showed up exactly so).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask, Response, send_from_directory

from devtools.servers import REPO, stop_process, wsgi_server
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS  # noqa: F401
from tests.browser.conftest import browser  # noqa: F401  the shared chromium fixture

from .conftest import ALICE, TIMEOUT, admin_token
from .models import EXTENSION_KEY, SDK_DIR, missing_sdk_message

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


def make_client(base: str, grant: str, redirects: list[str], verify: str | bool = True) -> str:
    """A client for the SPA; a CODE one is public (the mock's extension): a browser app
    keeps no secret, and loginPKCEGrant sends none."""
    body = {"name": f"SPA {grant}", "authorizedGrantType": grant, "registeredRedirectUri": redirects}
    if grant == "CODE":
        body[EXTENSION_KEY] = {"publicClient": True}
    response = requests.post(base + "/api/v2/oauth/clients", timeout=TIMEOUT, verify=verify,
                             headers={"Authorization": f"Bearer {admin_token(base, verify)}"}, json=body)
    assert response.status_code == 200, response.text
    assert ("secret" in response.json()) == (grant != "CODE")
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


def run_spa(page, spa: str, mock_url: str, flow: str) -> None:
    """Log in, check the user is shown, log out, check the next login shows the form."""
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
    page.goto(f"{spa}/{flow}.html")
    page.wait_for_url(f"{mock_url}/oauth/authorize*")
    assert page.locator("#password").count() == 1


def sign_in_on_the_mock(page, mock_url: str) -> None:
    page.wait_for_url(f"{mock_url}/oauth/authorize*")
    page.fill("#username", ALICE.username)
    page.fill("#password", ALICE.password)
    page.click("#login")


@pytest.mark.parametrize("flow", ["implicit", "pkce"])
def test_spa_logs_in_shows_the_user_and_logs_out(page, spa, mock_url, flow):
    problems = Problems(page)
    run_spa(page, spa, mock_url, flow)
    assert problems.found == []


DOMAIN = "mock.test"


def spki_pin(cert_pem: bytes) -> str:
    """Chromium's --ignore-certificate-errors-spki-list entry: trust exactly this key."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture(scope="module")
def tls_mock(tmp_path_factory) -> Iterator[tuple[int, Path]]:
    """`python -m mock_idp --tls --domain mock.test` on a free port: (port, state dir)."""
    state = tmp_path_factory.mktemp("tls_state")
    proc = subprocess.Popen([sys.executable, "-m", "mock_idp", "--tls", "--domain", DOMAIN,
                             "--port", "0", "--state-dir", str(state)], cwd=REPO, text=True,
                            env={**os.environ, "MOCK_IDP_DB": str(state / "idp.sqlite3")},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert proc.stdout is not None
        found = re.search(r"https://127\.0\.0\.1:(\d+)", proc.stdout.readline())
        assert found, "the TLS mock did not say where it listens"
        yield int(found[1]), state
    finally:
        stop_process(proc)


@pytest.mark.parametrize("flow", ["implicit", "pkce"])
def test_spa_with_set_environment_against_the_tls_mode(browser, tls_mock, flow):  # noqa: F811
    """setEnvironment('mock.test:PORT'): the SDK builds https://login. and https://api. itself.
    Chromium finds both names by its resolver rules and trusts exactly the mock's key."""
    port, state = tls_mock
    ca = str(state / "tls" / "ca.pem")
    base = f"https://127.0.0.1:{port}"
    pin = spki_pin((state / "tls" / "server.pem").read_bytes())
    config: dict = {"environment": f"{DOMAIN}:{port}"}
    with wsgi_server(spa_app(config)) as spa_url:
        config["implicitClientId"] = make_client(base, "TOKEN", [
            f"{spa_url}/implicit.html", f"{spa_url}/signed-out.html"], verify=ca)
        config["pkceClientId"] = make_client(base, "CODE", [
            f"{spa_url}/pkce.html", f"{spa_url}/signed-out.html"], verify=ca)
        # A chromium of its own (the shared one has no resolver rules), from the same Playwright.
        chromium = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
            *CHROMIUM_ARGS, f"--host-resolver-rules=MAP login.{DOMAIN} 127.0.0.1, "
            f"MAP api.{DOMAIN} 127.0.0.1", f"--ignore-certificate-errors-spki-list={pin}"])
        try:
            context = chromium.new_context()
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            problems = Problems(page)
            run_spa(page, spa_url, f"https://login.{DOMAIN}:{port}", flow)
            assert problems.found == []
        finally:
            chromium.close()
