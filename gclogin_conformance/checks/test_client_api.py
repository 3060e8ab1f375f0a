"""Client-side requirements on the wire: what our client (service/api.py) sends.

A capturing WSGI app on 127.0.0.1 records each request; no target server is needed.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, unquote_plus

import pytest
from werkzeug.wrappers import Request, Response

from service import api, environments
from gclogin_conformance.servers import wsgi_server

GROUP = "client"


@pytest.fixture
def capture():
    seen: list[dict] = []

    @Request.application
    def app(request: Request) -> Response:
        seen.append({"method": request.method, "path": request.path, "query": request.query_string.decode(),
                     "headers": dict(request.headers), "form": request.get_data(as_text=True)})
        if request.path == "/oauth/token":
            return Response(json.dumps({"access_token": "AT", "token_type": "bearer", "expires_in": 300}),
                            content_type="application/json",
                            headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
        return Response(status=204)

    with wsgi_server(app) as base:
        yield environments.resolve(base), seen


@pytest.mark.parametrize("client_id, secret", [
    ("plain", "s3cret"), ("id:with:colons", "p@ss word+&=%"), ("ünïcode", "ß€ret/?#")])
def test_R8_basic_auth_form_urlencodes_id_and_secret_separately(capture, client_id, secret):
    """R8 — RFC 6749 §2.3.1: form-urlencode id and secret separately, then base64."""
    endpoints, seen = capture
    api.client_credentials_token(endpoints, client_id, secret, timeout=5)
    scheme, _, encoded = seen[0]["headers"]["Authorization"].partition(" ")
    raw_id, sep, raw_secret = base64.b64decode(encoded).decode("ascii").partition(":")
    assert scheme == "Basic" and sep == ":"
    assert (unquote_plus(raw_id), unquote_plus(raw_secret)) == (client_id, secret)
    assert ":" not in raw_id  # a colon inside the id is encoded, so the split is unambiguous


def test_R9_one_auth_method_and_no_credentials_in_url(capture):
    """R9 — RFC 6749 §2.3: Basic only; no client_secret in the body; nothing in the URL."""
    endpoints, seen = capture
    api.client_credentials_token(endpoints, "cid", "topsecret", timeout=5)
    request = seen[0]
    assert request["query"] == ""
    body = parse_qs(request["form"])
    assert "client_secret" not in body and "client_id" not in body
    assert "topsecret" not in request["form"]


def test_R9_pkce_exchange_sends_no_secret_and_nothing_in_url(capture):
    """R9 — RFC 6749 §2.3: the public PKCE client sends client_id in the body, no Basic, no query."""
    endpoints, seen = capture
    api.exchange_code(endpoints, code="C0DE", redirect_uri="http://127.0.0.1:9", code_verifier="v" * 43,
                      client_id="pub", timeout=5)
    request = seen[0]
    assert request["query"] == "" and "Authorization" not in request["headers"]
    assert parse_qs(request["form"]) == {"grant_type": ["authorization_code"], "code": ["C0DE"],
                                         "redirect_uri": ["http://127.0.0.1:9"],
                                         "code_verifier": ["v" * 43], "client_id": ["pub"]}


def test_R10_client_credentials_request_shape(capture):
    """R10 — RFC 6749 §4.4.2: grant_type=client_credentials [+ scope], form-encoded POST."""
    endpoints, seen = capture
    token = api.client_credentials_token(endpoints, "cid", "sec", scope="users:readonly", timeout=5)
    request = seen[0]
    assert (request["method"], request["path"]) == ("POST", "/oauth/token")
    assert request["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert parse_qs(request["form"]) == {"grant_type": ["client_credentials"], "scope": ["users:readonly"]}
    assert token.access_token == "AT"


def test_G5_client_revokes_with_delete_tokens_me(capture):
    """G5 — REFERENCE §4: `tokens me delete` is DELETE /api/v2/tokens/me with the bearer token."""
    endpoints, seen = capture
    api.revoke_token(endpoints, "AT", timeout=5)
    assert (seen[0]["method"], seen[0]["path"]) == ("DELETE", "/api/v2/tokens/me")
    assert seen[0]["headers"]["Authorization"] == "Bearer AT"
