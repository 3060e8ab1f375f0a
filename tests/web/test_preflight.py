"""The web service sends the authorize request itself before it sends the browser there
(service.preflight, issue 19): an unreachable IdP, an unknown client and an unregistered
callback give an error page, not a redirect."""
from __future__ import annotations

import pytest

from mock_idp.testing import add_redirect_uris
from service.config_store import ConfigStore
from service.environments import issuer_id
from service.errors import REDIRECT_URI_SENT
from devtools.servers import free_port, wsgi_server

from .conftest import make_app
from .walker import PKCE_CLIENT, Walker


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    """The mock with exact redirect-URI matching (Genesys's rule)."""
    from mock_idp import create_app as create_idp

    idp = create_idp({"DB": str(tmp_path_factory.mktemp("idp") / "idp.sqlite3"), "TESTING": True})
    with wsgi_server(idp) as url:
        idp.config["test_url"] = url
        yield idp


def serve(tmp_path, idp_url: str, port: int, **settings):
    app = make_app(tmp_path, IDP_URL=idp_url, PUBLIC_URL=f"http://127.0.0.1:{port}", **settings)
    return app, wsgi_server(app, port=port)


@pytest.fixture
def idp_url(idp):
    return idp.config["test_url"]


def test_a_registered_callback_goes_on_to_the_idp(tmp_path, idp, idp_url):
    port = free_port()
    add_redirect_uris(idp, f"http://127.0.0.1:{port}/callback/{issuer_id(idp_url)}")
    app, server = serve(tmp_path, idp_url, port)
    with server as url:
        start = Walker(url).new_profile(name="pk", environment=idp_url, grant_type="3", client_id=PKCE_CLIENT)
    assert start.status_code == 303 and start.headers["Location"].startswith(idp_url + "/oauth/authorize?")


def test_an_unknown_client_gives_the_idps_reason_and_no_redirect(tmp_path, idp_url):
    port = free_port()
    app, server = serve(tmp_path, idp_url, port)
    with server as url:
        page = Walker(url).new_profile(name="pk", environment=idp_url, grant_type="3", client_id="no-such-client")
    assert page.status_code == 400 and "Location" not in page.headers
    assert (f"the login server {idp_url} refused this login before the browser opened: Unknown client: "
            "the &#39;client_id&#39; is not a registered OAuth client.") in page.text
    # ... and which callback to register, which a person cannot guess (one per issuer)
    assert (f"{REDIRECT_URI_SENT} http://127.0.0.1:{port}/callback/{issuer_id(idp_url)}") in page.text
    assert "pk" not in ConfigStore(app.config["CONFIG_PATH"]).names()


def test_an_unregistered_callback_gives_the_idps_reason_and_no_redirect(tmp_path, idp_url):
    port = free_port()  # its callback is not registered
    app, server = serve(tmp_path, idp_url, port)
    with server as url:
        page = Walker(url).new_profile(name="pk", environment=idp_url, grant_type="3", client_id=PKCE_CLIENT)
    assert page.status_code == 400 and "Location" not in page.headers
    assert f"http://127.0.0.1:{port}/callback/" in page.text and "is not supported by client" in page.text
    assert "refused this login before the browser opened" in page.text


def test_an_unreachable_idp_gives_an_error_page_at_once(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    app, server = serve(tmp_path, closed, port, IDP_RETRIES=0)
    with server as url:
        page = Walker(url).new_profile(name="pk", environment=closed, grant_type="3", client_id=PKCE_CLIENT)
    assert page.status_code == 502 and "Location" not in page.headers
    assert "The authorization server cannot be reached. Nothing was saved; try again later." in page.text

