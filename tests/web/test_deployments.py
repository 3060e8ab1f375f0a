"""Deployment shapes: compose's split IdP URLs, a real org through GENESYSCLOUD_*, and an
IdP that starts after the web service."""
from __future__ import annotations

import threading
import time

import pytest

from mock_idp.testing import add_redirect_uris
from service.config_store import ConfigStore
from service.environments import issuer_id
from service.profiles import GrantType, Profile
from devtools.servers import free_port, wsgi_server

from .conftest import make_app, write_config
from .walker import ALICE, CC_CLIENT, PKCE_CLIENT, USER_CONTEXT_ERROR, Walker


@pytest.fixture(scope="module")
def idp_app(tmp_path_factory):
    from mock_idp import create_app as create_idp

    return create_idp({"DB": str(tmp_path_factory.mktemp("idp") / "idp.sqlite3"),
                       "LOOPBACK_ANY_PORT": True, "TESTING": True})


@pytest.fixture(scope="module")
def idp_url(idp_app):
    with wsgi_server(idp_app) as url:
        # the web service's callback for this issuer, any 127.0.0.1 port (LOOPBACK_ANY_PORT)
        add_redirect_uris(idp_app, f"http://127.0.0.1:8080/callback/{issuer_id(url)}")
        yield url


def serve(tmp_path, **config):
    port = free_port()
    app = make_app(tmp_path, PUBLIC_URL=f"http://127.0.0.1:{port}", **config)
    return app, wsgi_server(app, port=port)


def test_compose_split_browser_goes_public_server_goes_internal(tmp_path, idp_app, idp_url):
    # The public name is not reachable from here at all: only the internal one is.
    public = "http://localhost:1"
    app, server = serve(tmp_path, IDP_URL=idp_url, IDP_PUBLIC_URL=public)
    add_redirect_uris(idp_app, f"{app.config['PUBLIC_URL']}/callback/localhost_1")
    with server as web:
        walker = Walker(web)
        form = walker.get("/profiles/new")
        assert f'value="{public}"' in form.text  # the default environment is the public URL
        assert f"form-action 'self' {public}" in form.headers["Content-Security-Policy"]
        cc = walker.new_profile(name="cc", environment=public, grant_type="1",
                                client_id=CC_CLIENT[0], client_secret=CC_CLIENT[1])
        assert cc.status_code == 303, cc.text  # token fetched from the internal URL
        assert USER_CONTEXT_ERROR in walker.get("/profiles/cc/me").text
        start = walker.new_profile(name="pk", environment=public, grant_type="3", client_id=PKCE_CLIENT)
        assert start.headers["Location"].startswith(public + "/oauth/authorize?")
        # The browser (here: the walker reaching the same IdP) signs in; the code is then
        # exchanged server-side through the internal URL.
        authorize = start.headers["Location"].replace(public, idp_url)
        done = walker.back_at_callback(walker.idp_sign_in(authorize))
        assert done.status_code == 303, done.text
        assert ALICE[0] in walker.get("/profiles/pk/me").text


def test_environment_variables_alone_log_in_with_client_credentials(tmp_path, idp_url):
    app, server = serve(tmp_path, IDP_URL=idp_url, GENESYSCLOUD={
        "GENESYSCLOUD_OAUTHCLIENT_ID": CC_CLIENT[0], "GENESYSCLOUD_OAUTHCLIENT_SECRET": CC_CLIENT[1]})
    write_config(app, f'[DEFAULT]\nenvironment = "{idp_url}"\n')
    with server as web:
        walker = Walker(web)
        listing = walker.get("/").text
        assert "GENESYSCLOUD_OAUTHCLIENT_ID" in listing and "Client Credentials" in listing
        assert CC_CLIENT[1] not in listing
        me = walker.get("/profiles/DEFAULT/me")
        assert USER_CONTEXT_ERROR in me.text
    # The overridden credentials are not the profile's: nothing is cached in the file.
    assert ConfigStore(app.config["CONFIG_PATH"]).get("DEFAULT").token_data is None


def test_client_id_variable_without_secret_logs_in_with_pkce(tmp_path, idp_url):
    app, server = serve(tmp_path, IDP_URL=idp_url,
                        GENESYSCLOUD={"GENESYSCLOUD_OAUTHCLIENT_ID": PKCE_CLIENT})
    write_config(app, f'[DEFAULT]\nenvironment = "{idp_url}"\n')
    with server as web:
        walker = Walker(web)
        done = walker.browser_login(walker.login("DEFAULT"))
        assert done.status_code == 303, done.text
        assert ALICE[0] in walker.get("/profiles/DEFAULT/me").text
        # The token belongs to this browser session, not to the file or another browser.
        assert ConfigStore(app.config["CONFIG_PATH"]).get("DEFAULT").token_data is None
        assert Walker(web).get("/profiles/DEFAULT/me").status_code == 401
        out = walker.post_form("/profiles/DEFAULT/logout", {}, token_page="/profiles/DEFAULT")
        assert out.status_code == 303
        assert walker.get("/profiles/DEFAULT/me").status_code == 401


def test_region_variable_points_profiles_at_the_real_org(tmp_path):
    app = make_app(tmp_path, IDP_URL=None, AUTHORIZE_PREFLIGHT=False, GENESYSCLOUD={
        "GENESYSCLOUD_REGION": "eu-central-1", "GENESYSCLOUD_OAUTHCLIENT_ID": "real-client"})
    write_config(app, '[DEFAULT]\nenvironment = "mypurecloud.com"\n')
    client = app.test_client()
    page = client.get("/profiles/new").get_data(as_text=True)
    assert 'value="mypurecloud.de"' in page
    token = client.get("/profiles/DEFAULT").get_data(as_text=True)
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', token).group(1)
    start = client.post("/profiles/DEFAULT/login", data={"csrf_token": csrf})
    assert start.status_code == 303
    assert start.headers["Location"].startswith(
        "https://login.mypurecloud.de/oauth/authorize?response_type=code&client_id=real-client")
    # one callback per issuer (R26): this one names Genesys's EU login
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback%2Flogin.mypurecloud.de&" in start.headers["Location"]


def test_idp_starting_late_is_retried(tmp_path, idp_app):
    port = free_port()
    app, server = serve(tmp_path, IDP_URL=f"http://127.0.0.1:{port}", IDP_RETRIES=6,
                        IDP_RETRY_DELAY=0.2)
    ConfigStore(app.config["CONFIG_PATH"]).save(Profile(
        name="cc", grant_type=GrantType.CLIENT_CREDENTIALS, client_id=CC_CLIENT[0],
        client_secret=CC_CLIENT[1], environment=f"http://127.0.0.1:{port}"))
    started = threading.Event()
    stop = threading.Event()

    def late_idp() -> None:
        time.sleep(0.5)  # the first attempts find nothing listening
        with wsgi_server(idp_app, port=port):
            started.set()
            stop.wait(60)

    thread = threading.Thread(target=late_idp, daemon=True)
    with server as web:
        walker = Walker(web)
        token = walker.get("/profiles/cc")  # warm the session before the IdP exists
        assert token.status_code == 200
        thread.start()
        try:
            me = walker.get("/profiles/cc/me")
            assert started.is_set()
            assert USER_CONTEXT_ERROR in me.text
        finally:
            stop.set()
            thread.join(10)
