"""Point 10: a profile's environment must not turn the web service into a probe of other
hosts: a loopback listener that is not the configured IdP is never connected to, and
network errors say nothing about ports."""
from __future__ import annotations

import socket
import threading

import pytest

from service.web.context import routes_for
from service.errors import InvalidValueError
from tests.web.conftest import make_app, write_config


@pytest.fixture
def listener():
    """A loopback port that records whether anyone connected."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    hits: list[bool] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            hits.append(True)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", hits
    stop.set()
    thread.join(timeout=5)
    sock.close()


def test_a_profile_naming_a_loopback_listener_is_refused_and_never_connected(tmp_path, listener):
    url, hits = listener
    web = make_app(tmp_path)   # its IdP is elsewhere
    write_config(web, f'[probe]\nenvironment = "{url}"\naccess_token = "tok"\ngrant_type = "0"\n')
    client = web.test_client()
    for resp in (client.get("/profiles/probe/me"),
                 client.post("/profiles/probe/login", data={"csrf_token": "x"})):
        page = resp.get_data(as_text=True)
        assert resp.status_code == 400 or resp.status_code == 403, page[:300]
    page = client.get("/profiles/probe/me").get_data(as_text=True)
    assert "talks only to Genesys Cloud domains" in page
    assert hits == []


def test_a_closed_port_is_not_told_apart_from_a_timeout(tmp_path):
    web = make_app(tmp_path, IDP_URL="http://127.0.0.1:9")
    write_config(web, '[p]\nenvironment = "http://127.0.0.1:9"\naccess_token = "tok"\n')
    page = web.test_client().get("/profiles/p/me").get_data(as_text=True)
    assert "cannot be reached" in page and "Errno" not in page and "refused" not in page.lower()


@pytest.mark.parametrize("environment", ["https://internal.example:8443", "evil.example",
                                         "http://127.0.0.1:22", "http://[::1]:6379"])
def test_only_genesys_domains_and_the_idp_unless_allowed(environment):
    with pytest.raises(InvalidValueError, match="SERVICE_ALLOWED_ENVIRONMENTS"):
        routes_for(environment, idp_url="http://127.0.0.1:8081", idp_public_url=None)
    allowed = routes_for(environment, idp_url=None, idp_public_url=None, insecure=True,
                         allowed=frozenset({environment.lower()}))
    assert allowed.server.environment == environment
    assert routes_for("mypurecloud.de", idp_url=None, idp_public_url=None).server.api_url == \
        "https://api.mypurecloud.de"
    assert routes_for(environment, idp_url=None, idp_public_url=None, insecure=True,
                      allowed=frozenset({"*"})).server.environment == environment
