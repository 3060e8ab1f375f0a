"""Point 4: the mix-up attack (R26). A profile names an "attacker IdP" on another loopback
port; it bounces the browser to the honest IdP, whose code and the PKCE verifier must
never reach the attacker. The web service tells issuers apart by its per-issuer callback
(/callback/<issuer id>); the CLI, whose loopback redirect URI is the same for every
environment, refuses the login before it starts."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from click.testing import CliRunner

from devtools.servers import free_port, wsgi_server
from mock_idp.testing import add_redirect_uris
from service.cli import cli
from service.config_store import ConfigStore
from service.environments import issuer_id
from service.profiles import GrantType, Profile
from tests.web.conftest import make_app
from tests.web.walker import Walker

from .conftest import PKCE_ID


class AttackerIdp:
    """A WSGI authorization server that forwards every authorize request to the honest one
    (optionally swapping in the honest issuer's callback) and records what reaches it."""

    def __init__(self, honest: str, swap_redirect_to: str | None) -> None:
        self.honest, self.swap = honest, swap_redirect_to
        self.seen: list[str] = []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        self.seen.append(f"{environ['REQUEST_METHOD']} {path}")
        if path == "/oauth/authorize":
            params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
            if self.swap:
                params["redirect_uri"] = self.swap
            start_response("302 Found", [("Location", f"{self.honest}/oauth/authorize?{urlencode(params)}")])
            return [b""]
        if path == "/oauth/token":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            self.seen.append(environ["wsgi.input"].read(length).decode())
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        return [b'{"error": "invalid_request"}']


@pytest.fixture
def web_and_attacker(idp, tmp_path, request):
    honest, honest_app = idp
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    honest_callback = f"{public}/callback/{issuer_id(honest)}"
    add_redirect_uris(honest_app, honest_callback)
    attacker = AttackerIdp(honest, honest_callback if request.param == "swapped" else None)
    with wsgi_server(attacker) as evil:
        # The operator allowed the other server (else the SSRF rule stops this first).
        app = make_app(tmp_path, PUBLIC_URL=public, IDP_URL=honest, ALLOWED_ENVIRONMENTS=evil, TESTING=False)
        ConfigStore(app.config["CONFIG_PATH"]).save(
            Profile(name="evil", grant_type=GrantType.PKCE, client_id=PKCE_ID, environment=evil))
        with wsgi_server(app, port=port) as web:
            yield app, Walker(web), attacker, evil, honest


@pytest.mark.parametrize("web_and_attacker", ["swapped"], indirect=True)
def test_web_code_from_the_honest_idp_never_reaches_the_attacker(web_and_attacker):
    app, walker, attacker, evil, honest = web_and_attacker
    start = walker.login("evil")
    assert start.status_code == 303 and start.headers["Location"].startswith(evil + "/oauth/authorize?")
    assert f"%2Fcallback%2F{issuer_id(evil)}&" in start.headers["Location"]  # the attacker's own callback
    bounce = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = walker.idp_sign_in(bounce.headers["Location"])  # the user signs in at the honest IdP
    assert urlsplit(back).path == f"/callback/{issuer_id(honest)}"  # the honest issuer's callback
    done = walker.back_at_callback(back)
    assert done.status_code == 400, done.text[:500]
    assert "mix-up" in done.text and "R26" in done.text
    assert [s for s in attacker.seen if "token" in s] == []              # no code, no verifier
    assert ConfigStore(app.config["CONFIG_PATH"]).get("evil").token_data is None
    # The login is over: the same response again finds nothing waiting.
    assert walker.back_at_callback(back).status_code == 400


@pytest.mark.parametrize("web_and_attacker", ["as_is"], indirect=True)
def test_web_bounce_with_the_attackers_callback_is_refused_by_the_honest_idp(web_and_attacker):
    _app, walker, attacker, evil, _honest = web_and_attacker
    start = walker.login("evil")
    bounce = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    page = requests.get(bounce.headers["Location"], allow_redirects=False, timeout=10)
    assert page.status_code == 400 and "is not supported by client" in page.text
    assert [s for s in attacker.seen if "token" in s] == []


@pytest.mark.parametrize("web_and_attacker", ["swapped"], indirect=True)
def test_cli_refuses_the_attackers_environment_for_a_genesys_client(web_and_attacker, cli_env):
    _app, _walker, attacker, evil, _honest = web_and_attacker
    store = ConfigStore(cli_env)
    store.save(Profile(name="prod", grant_type=GrantType.PKCE, client_id=PKCE_ID, environment="mypurecloud.com"))
    store.save(Profile(name="evil", grant_type=GrantType.PKCE, client_id=PKCE_ID, environment=evil))
    result = CliRunner().invoke(cli, ["-p", "evil", "login", "--no-browser", "--timeout", "5"])
    assert result.exit_code != 0
    assert "mix-up" in result.output and "'prod'" in result.output and "mypurecloud.com" in result.output
    assert attacker.seen == []                               # the login never started
    # gclogin profiles new refuses it the same way, and saves nothing.
    new = CliRunner().invoke(cli, ["profiles", "new", "--yes", "--name", "evil2", "--environment", evil,
                                   "--grant-type", "3", "--client-id", PKCE_ID, "--redirect-port", "0",
                                   "--no-browser", "--timeout", "5"])
    assert new.exit_code != 0 and "mix-up" in new.output, new.output
    assert "evil2" not in store.names() and attacker.seen == []
