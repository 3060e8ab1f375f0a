"""POST /oauth/token: client credentials (R8, R9, R10, R12) and RFC 6749 §5.2 errors."""
from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from mock_idp import create_app
from mock_idp.testing import app_config

from .conftest import CC, IMPLICIT, PKCE, bearer

GRANT = {"grant_type": "client_credentials"}


def basic(client_id: str, secret: str, encode=lambda s: quote(s, safe="")) -> dict[str, str]:
    raw = f"{encode(client_id)}:{encode(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def assert_no_store(response):
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_client_credentials_with_basic(client):
    response = client.post("/oauth/token", data=GRANT, headers=basic(CC.id, CC.secret))
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == CC.access_token_validity_seconds
    assert len(body["access_token"]) >= 32
    assert "refresh_token" not in body  # R10
    assert_no_store(response)  # R12


def test_client_credentials_with_client_secret_post(client):
    response = client.post("/oauth/token", data={**GRANT, "client_id": CC.id,
                                                 "client_secret": CC.secret})
    assert response.status_code == 200
    assert response.json["token_type"] == "bearer"


def test_basic_credentials_are_form_urlencoded(tmp_path):
    """R8: a secret with ':', '%', '+' and spaces works only when form-urlencoded."""
    seed = tmp_path / "seed.toml"
    seed.write_text('[[clients]]\nid = "odd:id"\nsecret = "s3cr:t %2B+ &="\nname = "odd"\n'
                    'authorized_grant_type = "CLIENT-CREDENTIALS"\n')
    client = create_app(app_config(tmp_path, SEED=str(seed))).test_client()
    ok = client.post("/oauth/token", data=GRANT, headers=basic("odd:id", "s3cr:t %2B+ &="))
    assert ok.status_code == 200, ok.json
    raw = client.post("/oauth/token", data=GRANT,
                      headers=basic("odd:id", "s3cr:t %2B+ &=", encode=lambda s: s))
    assert raw.status_code == 401


@pytest.mark.parametrize("headers, data", [
    (basic(CC.id, "wrong"), GRANT),
    (basic("no-such-client", "x"), GRANT),
])
def test_bad_basic_credentials_are_401_with_www_authenticate(client, headers, data):
    response = client.post("/oauth/token", data=data, headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert_no_store(response)


@pytest.mark.parametrize("data", [
    {**GRANT, "client_id": CC.id, "client_secret": "wrong"},
    {**GRANT, "client_id": "no-such-client", "client_secret": "x"},
    GRANT,
])
def test_bad_body_credentials_are_400_without_www_authenticate(client, data):
    response = client.post("/oauth/token", data=data)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_client"
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize("header, fragment", [
    ("Basic !!!notbase64", "base64"),
    ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "UTF-8"),
    ("Basic " + base64.b64encode(b"no-colon").decode(), "client_id:client_secret"),
    ("Basic " + base64.b64encode(b":secret").decode(), "client_id:client_secret"),
    ("Bearer abc", "Basic scheme"),
    ("Basic", "missing"),
    ("Basic \u00e9t\u00e9", "base64"),
    ("", "Basic scheme"),
    ("Basic " + base64.b64encode(b"").decode(), "missing"),
    ("Basic " + base64.b64encode(b"caf\xe9:x").decode(), "UTF-8"),   # Latin-1, not UTF-8
    ("Basic " + base64.b64encode(b"a:b").decode()[:-1], "base64"),  # one character short: not a whole base64 quantum
    ("Basic " + base64.b64encode(b"a:b").decode() + " extra", "base64"),
])
def test_malformed_basic_header(client, header, fragment):
    response = client.post("/oauth/token", data=GRANT, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert fragment in response.json["error_description"]
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_two_authentication_methods_are_refused(client):
    """R9: one client-authentication method per request."""
    response = client.post("/oauth/token", data={**GRANT, "client_secret": CC.secret},
                           headers=basic(CC.id, CC.secret))
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_parameters_in_the_url_are_refused(client):
    """R9: never credentials in a URL."""
    response = client.post("/oauth/token?client_secret=" + CC.secret, data=GRANT,
                           headers=basic(CC.id, CC.secret))
    assert response.status_code == 400
    assert "URL" in response.json["error_description"]


@pytest.mark.parametrize("body, error, fragment", [
    ("grant_type=client_credentials&grant_type=client_credentials", "invalid_request", "repeated"),
    ("scope=a", "invalid_request", "grant_type"),
    ("grant_type=password&username=a&password=b", "unsupported_grant_type", "password"),
    # Refresh tokens exist only for confidential Code Authorization clients, never this one.
    ("grant_type=refresh_token&refresh_token=x", "unauthorized_client", "refresh_token"),
    ("grant_type=urn%3Aietf%3Aparams", "unsupported_grant_type", "urn"),
])
def test_malformed_requests(client, body, error, fragment):
    response = client.post("/oauth/token", data=body, headers={
        **basic(CC.id, CC.secret), "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert response.json["error"] == error
    assert fragment in response.json["error_description"]
    assert_no_store(response)


def test_json_body_is_refused(client):
    response = client.post("/oauth/token", json={"grant_type": "client_credentials"},
                           headers=basic(CC.id, CC.secret))
    assert response.status_code == 400
    assert "x-www-form-urlencoded" in response.json["error_description"]


def test_oversized_body_is_413_json(client):
    response = client.post("/oauth/token", data={**GRANT, "pad": "x" * 200_000},
                           headers=basic(CC.id, CC.secret))
    assert response.status_code == 413
    assert response.json["error"] == "invalid_request"
    assert_no_store(response)


def test_get_is_405_json(client):
    response = client.get("/oauth/token")
    assert response.status_code == 405
    assert response.json["error"] == "invalid_request"
    assert_no_store(response)


@pytest.mark.parametrize("public", [IMPLICIT, PKCE])
def test_browser_clients_cannot_use_client_credentials(client, public):
    response = client.post("/oauth/token", data={**GRANT, "client_id": public.id})
    assert response.status_code in (400, 401)
    assert response.json["error"] in ("invalid_client", "unauthorized_client")


def test_token_lifetime_follows_the_client(client, app, clock):
    token = client.post("/oauth/token", data=GRANT, headers=basic(CC.id, CC.secret)).json
    assert client.get("/api/v2/tokens/me", headers=bearer(token["access_token"])).status_code == 200
    clock.advance(token["expires_in"] - 1)
    assert client.get("/api/v2/tokens/me", headers=bearer(token["access_token"])).status_code == 200
    clock.advance(1)
    assert client.get("/api/v2/tokens/me", headers=bearer(token["access_token"])).status_code == 401


def test_scope_outside_the_client_is_invalid_scope(client):
    response = client.post("/oauth/token", data={**GRANT, "scope": "admin:all"},
                           headers=basic(CC.id, CC.secret))
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def test_body_client_id_must_match_basic(client):
    """RFC 6749 §3.2.1: a client_id in the body names the authenticated client, no other."""
    response = client.post("/oauth/token", data={**GRANT, "client_id": PKCE.id},
                           headers=basic(CC.id, CC.secret))
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert "client_id" in response.json["error_description"]
    same = client.post("/oauth/token", data={**GRANT, "client_id": CC.id},
                       headers=basic(CC.id, CC.secret))
    assert same.status_code == 200


def test_percent_encoded_non_utf8_basic_is_an_unknown_client(client):
    response = client.post("/oauth/token", data=GRANT, headers={
        "Authorization": "Basic " + base64.b64encode(b"%FF%FE:%FF").decode()})
    assert response.status_code == 401 and response.json["error"] == "invalid_client"
