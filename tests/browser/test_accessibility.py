"""Every page of the web service, the mock IdP and the CLI's loopback server, checked in
chromium with axe-core (tests/browser/node, pinned by its lockfile): no serious or critical
violation (WCAG AA contrast included), and no sideways scrolling on a 390 px wide phone."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devtools.servers import free_port, wsgi_server
from service.environments import issuer_id, resolve
from service.loopback.handler import LoopbackApp
from service.oauth import start_login
from service.profiles import GrantType
from service.web import create_app as create_web_app

pytestmark = pytest.mark.slow
AXE = Path(__file__).with_name("node") / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(" "))}));
}"""


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    from mock_idp import create_app

    app = create_app({"DB": str(tmp_path_factory.mktemp("idp") / "idp.sqlite3"), "SHOW_DEMO_CREDENTIALS": True})
    with wsgi_server(app) as base:
        yield base


@pytest.fixture(scope="module")
def web(idp, tmp_path_factory):
    state = tmp_path_factory.mktemp("web")
    port = free_port()
    public = f"http://localhost:{port}"
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    token = json.dumps({"access_token": "t" * 20, "token_type": "bearer", "expires_in": 3600, "error": "",
                        "oauth_token_expiry": expiry})
    config = state / "config.toml"
    config.write_text(f'[pk]\ngrant_type = "3"\nclient_credentials = "a-rather-long-client-id-0123456789abcdef"\n'
                      f'environment = "{idp}"\n'
                      f'[held]\ngrant_type = "3"\nclient_credentials = "c"\nenvironment = "{idp}"\n'
                      f"oauth_token_data = '{token}'\n")
    config.chmod(0o600)
    app = create_web_app({"IDP_URL": idp, "PUBLIC_URL": public, "CONFIG_PATH": str(config),
                          "PENDING_DB": str(state / "pending.sqlite3"), "SECRET_KEY": "a11y-tests" * 4})
    with wsgi_server(app, port=port):
        yield public


@pytest.fixture
def phone(browser):
    """A phone-sized page; bypass_csp only so that axe's own script can be added to it."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make sdk-node` installs it (npm ci, tests/browser/node)")
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def check(page, url: str) -> None:
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    bad = [v for v in page.evaluate(RUN_AXE) if v["impact"] in SERIOUS]
    assert not bad, f"{url}: {json.dumps(bad, indent=1)}"
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{url} is wider than the screen: {width}"


@pytest.mark.parametrize("path", ["/", "/profiles/new", "/profiles/pk", "/profiles/held", "/profiles/pk/edit",
                                  "/profiles/pk/delete", "/profiles/pk/me", "/profiles/ghost", "/callback/{idp}"])
def test_web_service_pages(phone, idp, web, path):
    check(phone, web + path.format(idp=issuer_id(idp)))  # the last: the relay page


def test_the_new_profile_page_with_its_errors(phone, web):
    phone.goto(web + "/profiles/new")
    phone.fill("#name", "bad name!")
    phone.select_option("#grant_type", "1")
    phone.click("button[type=submit]")
    phone.wait_for_selector("#name-error")
    phone.add_script_tag(path=str(AXE))
    assert not [v for v in phone.evaluate(RUN_AXE) if v["impact"] in SERIOUS]


def test_the_form_hides_what_the_grant_does_not_ask(phone, web):
    phone.goto(web + "/profiles/new")
    redirect = phone.locator("fieldset[data-grants='2 3']")
    secret = phone.locator("fieldset[data-grants='1 2']")
    assert redirect.is_visible() and not secret.is_visible()    # PKCE: no secret
    phone.select_option("#grant_type", "1")
    assert secret.is_visible() and not redirect.is_visible()    # client credentials: no redirect
    phone.fill("#access_token", "some-token")
    assert not phone.locator("#grant-fields").is_visible() and not secret.is_visible()


@pytest.mark.parametrize("path", ["/", "/logout", "/oauth/authorize?response_type=token&client_id=nope"])
def test_mock_idp_pages(phone, idp, path):
    check(phone, idp + path)


def test_mock_idp_sign_in_page(phone, idp):
    from gclogin_conformance.idp_driver import Idp
    from gclogin_conformance.plugin import mock_spec

    client = Idp(mock_spec(idp)).create_client("TOKEN", ["http://127.0.0.1:9"])
    check(phone, f"{idp}/oauth/authorize?response_type=token&client_id={client['id']}"
                 "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9&state=s")
    assert phone.locator("#login").is_visible()


@pytest.mark.parametrize("target", ["/", "/?code=c&state=wrong", "/nowhere"])
def test_loopback_pages(phone, target):
    """The loopback server's pages, as its handler builds them (body and headers), served to
    chromium at a loopback origin through Playwright's router."""
    pending = start_login(GrantType.PKCE, client_id="c", redirect_uri="http://127.0.0.1:1",
                          endpoints=resolve("http://127.0.0.1:1"))
    app = LoopbackApp(pending, lambda outcome: None)
    page_of = app.get(target)
    origin = f"http://127.0.0.1:{free_port()}"
    phone.route(origin + "/**", lambda route: route.fulfill(
        status=page_of.status, body=page_of.body, headers={**page_of.headers, "Content-Type": "text/html"}))
    check(phone, origin + target)


def test_loopback_success_page(phone):
    from service.loopback.handler import _page

    page_of = _page(200, True, "Login complete")
    origin = f"http://127.0.0.1:{free_port()}"
    phone.route(origin + "/**", lambda route: route.fulfill(
        status=200, body=page_of.body, headers={**page_of.headers, "Content-Type": "text/html"}))
    check(phone, origin + "/")


def test_axe_does_find_what_it_must(phone):
    """The check can fail: the IdP's old orange Sign-in button (white on #ff4f1f, 3.2:1) is refused."""
    phone.set_content('<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
                      '<button style="background:#ff4f1f;color:#fff">Sign in</button></main></body></html>')
    phone.add_script_tag(path=str(AXE))
    assert "color-contrast" in [v["id"] for v in phone.evaluate(RUN_AXE) if v["impact"] in SERIOUS]
