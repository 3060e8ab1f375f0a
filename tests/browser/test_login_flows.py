"""Real-browser logins (headless Debian chromium): the CLI over HTTP/HTTPS loopback and the web service.

Everything is asserted from the browser's own view: which origins it contacted, the URLs
it navigated through, the Referer headers it sent, and what each page shows.
"""
from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from service.environments import issuer_id
from service.web import create_app as create_web_app
from tests.browser.conftest import origin
from gclogin_conformance.idp_driver import Idp
from gclogin_conformance.plugin import mock_spec
from devtools.servers import REPO, free_port, stop_process, wsgi_server

pytestmark = pytest.mark.slow
WAIT = 30.0


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    from mock_idp import create_app

    app = create_app({"DB": str(tmp_path_factory.mktemp("idp") / "idp.sqlite3")})
    with wsgi_server(app) as base:
        yield Idp(mock_spec(base))


def _sign_in(view, idp, password=None):
    page = view.page
    page.wait_for_selector("#password")
    page.fill("#username", idp.user["username"])
    page.fill("#password", password or idp.user["password"])
    page.click("#login")


def test_mock_login_form_rejects_a_wrong_password_then_signs_in(view, idp):
    client = idp.create_client("TOKEN", ["http://127.0.0.1:9"])
    view.page.goto(f"{idp.base_url}/oauth/authorize?response_type=token&client_id={client['id']}"
                   f"&redirect_uri=http%3A%2F%2F127.0.0.1%3A9&state=s")
    _sign_in(view, idp, password="wrong-password")
    view.page.wait_for_selector("#error")
    view.screenshot("mock-login-error")
    assert "Wrong username or password" in view.page.inner_text("#error")
    assert view.page.locator("#password").count() == 1
    view.assert_only_origins({idp.base_url})


class CliLogin:
    """`gclogin profiles new` as a subprocess; the test's browser plays the user's."""

    def __init__(self, tmp_path: Path, idp: Idp, grant: str, scheme: str) -> None:
        self.port = free_port()
        self.redirect = f"{scheme}://localhost:{self.port}"
        client = idp.create_client("TOKEN" if grant == "implicit" else "CODE", [self.redirect])
        assert grant == "implicit" or "secret" not in client  # a public PKCE client: gc sends no secret
        self.config = tmp_path / "gc" / "config.toml"
        cmd = [sys.executable, "-m", "service.cli", "--config", str(self.config), "profiles", "new",
               "--name", "p", "--environment", idp.base_url, "--grant-type", grant,
               "--client-id", client["id"], "--redirect-port", str(self.port),
               "--https" if scheme == "https" else "--no-https", "--yes", "--no-browser", "--timeout", "60"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.proc.stdout], daemon=True).start()
        self.output: list[str] = []
        self.url = self._wait_for("/oauth/authorize?")
        self.url = self.url[self.url.index("http", self.url.index(": ")):].strip()

    def _wait_for(self, text: str) -> str:
        while True:
            line = self.lines.get(timeout=WAIT)
            self.output.append(line)
            if text in line:
                return line

    def finish(self) -> dict:
        self.proc.wait(timeout=WAIT)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        assert self.proc.returncode == 0, "".join(self.output)
        profile = tomllib.loads(self.config.read_text())["p"]
        return json.loads(profile["oauth_token_data"])

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture
def cli_login(tmp_path, idp):
    started: list[CliLogin] = []

    def start(grant: str, scheme: str) -> CliLogin:
        started.append(CliLogin(tmp_path, idp, grant, scheme))
        return started[-1]

    yield start
    for login in started:
        login.stop()


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("grant", ["implicit", "pkce"])
def test_cli_login_in_a_real_browser(view, idp, cli_login, grant, scheme):
    """R22, R5, R16, R29: the CLI's loopback login seen from chromium, self-signed cert accepted."""
    login = cli_login(grant, scheme)
    view.page.goto(login.url)
    _sign_in(view, idp)
    view.page.wait_for_selector("text=Login complete")
    shot = view.screenshot(f"cli-{grant}-{scheme}-success")
    token = login.finish()["access_token"]
    loopback = origin(login.redirect)
    assert "Login complete" in view.page.inner_text("body")
    view.assert_only_origins({idp.base_url, loopback})
    view.assert_token_not_exposed(token, loopback)
    if grant == "implicit":  # the fragment did reach the relay page, which scrubbed it
        assert any(token in u for u in view.navigations)
    if grant == "pkce":
        redirect = next(u for u in view.navigations if u.startswith(loopback) and "code=" in u)
        assert "access_token" not in redirect and token not in redirect
    assert token not in "".join(login.output)
    assert shot.stat().st_size > 1000


def test_cli_error_page_renders(view, idp, cli_login):
    """R3: an error response reaches the CLI's loopback page, which says why; the CLI fails."""
    login = cli_login("pkce", "http")
    state = parse_qs(urlsplit(login.url).query)["state"][0]
    view.page.goto(f"{login.redirect}/?error=access_denied&error_description=The+user+said+no&state={state}")
    view.page.wait_for_selector("text=Login failed")
    view.screenshot("cli-error")
    assert "The user said no" in view.page.inner_text("body")
    login.proc.wait(timeout=WAIT)
    assert login.proc.returncode != 0


@pytest.fixture(scope="module")
def web(idp, tmp_path_factory):
    state = tmp_path_factory.mktemp("web")
    port = free_port()
    public = f"http://localhost:{port}"
    app = create_web_app({"IDP_URL": idp.base_url, "PUBLIC_URL": public, "CONFIG_PATH": str(state / "config.toml"),
                          "PENDING_DB": str(state / "pending.sqlite3"), "SECRET_KEY": "browser-tests"})
    callback = f"{public}/callback/{issuer_id(idp.base_url)}"
    clients = {"2": idp.create_client("TOKEN", [callback]), "3": idp.create_client("CODE", [callback])}
    assert "secret" not in clients["3"]  # public (the mock's extension): PKCE alone, as the service logs in
    with wsgi_server(app, port=port):
        yield public, clients, state / "config.toml"


@pytest.mark.parametrize("grant, label", [("2", "implicit"), ("3", "pkce")])
def test_web_login_in_a_real_browser(view, idp, web, grant, label):
    """R22, R5, R27: the web service's new-profile login typed into the mock's form, seen from chromium."""
    public, clients, config = web
    page = view.page
    page.goto(public + "/profiles/new")
    page.fill("#name", f"web-{label}")
    page.select_option("#grant_type", grant)
    page.fill("#client_id", clients[grant]["id"])
    page.check("#overwrite")
    page.click("button[type=submit]")
    _sign_in(view, idp)
    page.wait_for_url(f"{public}/profiles/web-{label}")
    view.screenshot(f"web-{label}-success")
    assert f"Profile web-{label}" in page.inner_text("h1")
    assert "Logged in" in page.inner_text("body")
    token = json.loads(tomllib.loads(config.read_text())[f"web-{label}"]["oauth_token_data"])["access_token"]
    view.assert_only_origins({idp.base_url, public})
    view.assert_token_not_exposed(token, public)
    assert token not in page.content()
    page.goto(f"{public}/profiles/web-{label}/me")
    assert idp.user["username"] in page.inner_text("body")
    view.screenshot(f"web-{label}-me")


def test_web_error_page_renders(view, idp, web):
    """R20: a callback with a state the service never issued shows an error page, no login."""
    public, _, _ = web
    response = view.page.goto(f"{public}/callback/{issuer_id(idp.base_url)}?code=forged&state=forged-state")
    assert response.status == 400
    view.screenshot("web-error")
    text = view.page.inner_text("body").lower()
    assert "login" in text and ("state" in text or "no login is waiting" in text)
