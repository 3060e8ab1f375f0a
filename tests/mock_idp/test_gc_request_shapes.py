"""Regression: the requests the real `gc` CLI sends, in their exact shape, over a socket.

gc (Go's net/http) posts the token request chunked with `Connection: close`; for PKCE
it sends HTTP Basic `client_id:` (an empty secret) and client_id in the body as well;
its authorize URL has no `state`. Each must keep working on the real server.
"""
from __future__ import annotations

import base64
import json
import socket
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from devtools.servers import wsgi_server
from mock_idp import create_app
from mock_idp.testing import app_config, parse_login_form

from .conftest import ALICE, CC, PKCE, REDIRECT, pkce_pair, query


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    with wsgi_server(create_app(app_config(tmp_path_factory.mktemp("gc_shapes")))) as url:
        yield url


def gc_token_request(base: str, body: str, authorization: str) -> tuple[int, dict]:
    """POST /oauth/token as Go sends it: chunked, Connection: close; read to EOF."""
    parts = urlsplit(base)
    payload = body.encode()
    request = (f"POST /oauth/token HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               "User-Agent: Go-http-client/1.1\r\nTransfer-Encoding: chunked\r\n"
               f"Authorization: {authorization}\r\nConnection: close\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\nAccept-Encoding: gzip\r\n\r\n"
               ).encode() + f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"chunked" not in head.lower(), head  # the mock answers with a length
    return status, json.loads(content)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_client_credentials_chunked_with_connection_close(base):
    status, body = gc_token_request(base, "grant_type=client_credentials", basic(CC.id, CC.secret))
    assert status == 200 and body["token_type"] == "bearer" and body["access_token"]


def test_pkce_as_gc_sends_it_no_state_empty_basic_secret_and_client_id_in_the_body(base):
    verifier, challenge = pkce_pair()
    authorize = base + "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": PKCE.id, "redirect_uri": REDIRECT,
        "code_challenge": challenge, "code_challenge_method": "S256"})  # no state, as gc
    with requests.Session() as browser:
        page = browser.get(authorize, timeout=10)
        assert page.status_code == 200, page.text
        form = parse_login_form(page.text)
        done = browser.post(base + form.action, allow_redirects=False, timeout=10,
                            data={**form.fields, "username": ALICE.username, "password": ALICE.password})
    assert done.status_code == 302
    returned = query(done.headers["Location"])
    assert "state" not in returned
    body = urlencode({"grant_type": "authorization_code", "code": returned["code"],
                      "redirect_uri": REDIRECT, "client_id": PKCE.id, "code_verifier": verifier})
    status, token = gc_token_request(base, body, basic(PKCE.id, ""))
    assert status == 200, token
    me = requests.get(base + "/api/v2/users/me", timeout=10,
                      headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == ALICE.id
