"""Client authentication (R8, R9) and API error mapping (REFERENCE §8), against a tiny local server."""
import base64
from urllib.parse import parse_qs, unquote, unquote_plus

import pytest
from flask import Flask, jsonify, request
from hypothesis import given, settings
from hypothesis import strategies as st

from service import api
from service.environments import Endpoints, resolve
from service.errors import ApiError, AuthenticationError, NetworkError, NoResponseError, OAuthError
from devtools.servers import free_port, wsgi_server


@settings(max_examples=100)
@given(st.text(max_size=50), st.text(max_size=50))
def test_basic_auth_form_urlencodes_each_part(client_id, secret):
    header = api.basic_auth_header(client_id, secret)
    assert header.startswith("Basic ")
    raw = base64.b64decode(header[6:]).decode("ascii")
    left, right = raw.split(":")  # ':' inside either part is encoded, so exactly one separator
    assert (unquote_plus(left), unquote_plus(right)) == (client_id, secret)  # form decoding
    assert (unquote(left), unquote(right)) == (client_id, secret)  # plain percent-decoding agrees


def _fake_idp():
    app = Flask(__name__)
    seen = []

    @app.post("/oauth/token")
    def token():
        seen.append({"auth": request.headers.get("Authorization"), "form": request.get_data(as_text=True),
                     "args": dict(request.args)})
        if request.headers.get("Authorization") != api.basic_auth_header("c i:d", "s&cret"):
            return jsonify(error="invalid_client", error_description="Bad <client>"), 401
        return jsonify(access_token="T", token_type="bearer", expires_in=60)

    @app.get("/api/v2/users/me")
    def me():
        if request.headers.get("Authorization") == "Bearer good":
            return jsonify(id="u1")
        if request.headers.get("Authorization") == "Bearer cc":
            return jsonify(message="This request requires a user context.", code="not.a.user", status=403), 403
        return jsonify(message="Invalid login credentials.", code="bad.credentials", status=401), 401

    @app.post("/redirecting/oauth/token")
    def redirecting():
        return "", 307, {"Location": "/oauth/token"}

    return app, seen


@pytest.fixture(scope="module")
def idp():
    app, seen = _fake_idp()
    with wsgi_server(app) as base:
        yield resolve(base), seen


def test_client_credentials_uses_basic_only(idp):
    endpoints, seen = idp
    token = api.client_credentials_token(endpoints, "c i:d", "s&cret")
    assert token.access_token == "T"
    sent = seen[-1]
    assert parse_qs(sent["form"]) == {"grant_type": ["client_credentials"]}  # no credentials in the body
    assert sent["args"] == {}
    with pytest.raises(OAuthError) as info:
        api.client_credentials_token(endpoints, "c i:d", "wrong")
    assert info.value.error == "invalid_client" and "wrong" not in str(info.value)


def test_redirects_are_not_followed(idp):
    endpoints, seen = idp
    moved = Endpoints(endpoints.environment, endpoints.login_url + "/redirecting", endpoints.api_url)
    before = len(seen)
    with pytest.raises(OAuthError, match="HTTP 307"):
        api.client_credentials_token(moved, "c i:d", "s&cret")
    assert len(seen) == before


def test_api_errors(idp):
    endpoints, _ = idp
    assert api.get_users_me(endpoints, "good") == {"id": "u1"}
    with pytest.raises(AuthenticationError) as info:
        api.get_users_me(endpoints, "bad")
    assert info.value.status == 401 and info.value.code == "bad.credentials"
    with pytest.raises(ApiError, match="requires a user context"):
        api.get_users_me(endpoints, "cc")


def test_unreachable_server_is_a_network_error():
    with pytest.raises(NetworkError, match="cannot reach http://127.0.0.1"):
        api.get_users_me(resolve(f"http://127.0.0.1:{free_port()}"), "t", timeout=5)


def test_unreachable_server_is_not_a_missing_answer():
    """Nothing listening: the request never went out, so it is safe to send again."""
    with pytest.raises(NetworkError) as info:
        api.get_users_me(resolve(f"http://127.0.0.1:{free_port()}"), "t", timeout=5)
    assert not isinstance(info.value, NoResponseError)


@pytest.mark.parametrize("answer", [None, b"", b"NOT HTTP AT ALL with a secret-looking tok3n\r\n\r\n"])
def test_a_request_sent_but_not_answered_is_no_response(answer):
    """The server read the whole request, then said nothing (timeout), hung up, or sent garbage."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    received = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while b"code=c0de" not in data:  # the whole form body has arrived
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            received.append(data)
            if answer is None:
                conn.recv(1)  # silent until the client gives up and closes
            else:
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(NoResponseError, match=f"no answer from http://127.0.0.1:{port}") as info:
            api.exchange_code(resolve(f"http://127.0.0.1:{port}"), code="c0de", redirect_uri="http://127.0.0.1:1",
                              code_verifier="v" * 43, client_id="pkce-client", timeout=0.5)
        assert "tok3n" not in str(info.value) and "c0de" not in str(info.value)
    finally:
        thread.join(10)
        listener.close()
    assert received and b"code=c0de" in received[0]  # the server did get the whole request
