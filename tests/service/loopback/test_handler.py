"""The CLI's loopback request handling (service/loopback/handler.py): the LoopbackApp answers
directly, then the standard-library server on a real socket (methods, bounds, TLS-free)."""
from __future__ import annotations

import re
import socket
from urllib.parse import urlencode

import pytest
import requests

from service import environments
from service.loopback.handler import MAX_BODY, LoopbackApp, make_servers
from service.loopback.server import _Serving, listen_loopback
from service.oauth import start_login
from service.profiles import GrantType

ENDPOINTS = environments.resolve("http://127.0.0.1:1")
FORM = "application/x-www-form-urlencoded"


def _app(grant: GrantType = GrantType.IMPLICIT) -> tuple[LoopbackApp, list]:
    pending = start_login(grant, client_id="c", redirect_uri="http://127.0.0.1:1", endpoints=ENDPOINTS)
    refused: list[bool] = []
    return LoopbackApp(pending, lambda outcome: None, lambda: refused.append(True)), refused


def _fragment(app: LoopbackApp, **extra: str) -> bytes:
    params = {"access_token": "tok", "token_type": "bearer", "state": app.pending.state, **extra}
    return urlencode({"fragment": urlencode(params)}).encode()


def test_relay_page_sends_by_fetch_to_its_own_origin_only():
    app, _ = _app()
    page = app.get("/")
    csp = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in page.body and 'data-send="fetch"' in page.body
    assert "connect-src 'self'" in csp and "default-src 'none'" in csp
    assert page.outcome is None and not app._taken


def test_other_paths_are_404_and_consume_nothing():
    app, refused = _app()
    for target in ("/favicon.ico", "/x?state=" + app.pending.state, "//", "/%2e%2e/"):
        page = app.get(target)
        assert page.status == 404 and page.outcome is None
    assert app.post("/callback", FORM, _fragment(app)).status == 404
    assert not refused and app.post("/", FORM, _fragment(app)).outcome.access_token == "tok"


def test_only_a_form_body_is_read():
    """A JSON or text body with the right state is not a login response (R20)."""
    app, refused = _app()
    for content_type in ("application/json", "text/plain", None):
        page = app.post("/", content_type, _fragment(app))
        assert page.status == 400 and page.outcome is None
    assert refused
    ok = app.post("/", FORM + "; charset=UTF-8", _fragment(app))
    assert ok.status == 200 and ok.outcome.access_token == "tok"


def test_a_query_that_is_not_utf8_is_refused_without_consuming_the_login():
    app, _ = _app(GrantType.PKCE)
    page = app.get("/?code=%FF&state=\xff")
    assert page.status == 400 and "UTF-8" in page.body and page.outcome is None
    assert not app._taken


@pytest.fixture
def served():
    """A LoopbackApp on a real 127.0.0.1 socket, stopped afterwards."""
    app, _ = _app()
    sockets = listen_loopback(("127.0.0.1",), 0)
    serving = _Serving()
    try:
        make_servers(sockets, app, None, into=serving.servers)
        serving.start()
        yield app, f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    finally:
        for sock in sockets:
            sock.close()
        serving.stop()


def test_server_answers_methods_and_bounds(served):
    app, base = served
    for method in ("PUT", "DELETE", "OPTIONS", "PATCH"):
        resp = requests.request(method, base + "/", timeout=5)
        assert resp.status_code == 405 and resp.headers["Allow"] == "GET, POST"
    head = requests.head(base + "/", timeout=5)
    assert head.status_code == 405 and head.content == b""
    big = requests.post(base + "/", data=b"f" * (MAX_BODY + 1), headers={"Content-Type": FORM}, timeout=5)
    assert big.status_code == 413
    assert requests.post(base + "/", data=_fragment(app), headers={"Content-Type": FORM},
                         timeout=5).status_code == 200


def test_server_errors_never_quote_the_request_line(served):
    """http.server's error page would echo the request line, which may carry a code (R25)."""
    _, base = served
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /?code=SECRETCODE&state=x HTTP/9.9 extra\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert b"400" in answer and b"SECRETCODE" not in answer  # (an HTTP/0.9-style answer)
