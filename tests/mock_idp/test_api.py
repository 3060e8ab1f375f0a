"""GET /api/v2/users/me, GET/DELETE /api/v2/tokens/me, and Genesys-style error bodies."""
from __future__ import annotations

import re

import pytest

from mock_idp.testing import issue_token

from .conftest import ALICE, CC, IMPLICIT, PKCE, bearer, cc_token

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
USER_CONTEXT = ("This request requires a user context. "
                "Client credentials cannot be used for requests to this resource.")


def assert_genesys_error(response, status, code):
    body = response.json
    assert response.status_code == status
    assert set(body) >= {"message", "code", "status", "contextId", "details", "errors"}
    assert body["status"] == status and body["code"] == code
    assert isinstance(body["details"], list) and isinstance(body["errors"], list)
    assert response.headers["ININ-Correlation-Id"] == body["contextId"]


def test_users_me(app, client):
    token = issue_token(app, IMPLICIT.id, ALICE.id)
    response = client.get("/api/v2/users/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.json
    assert body["id"] == ALICE.id and body["name"] == ALICE.name
    assert body["email"] == ALICE.email and body["username"] == ALICE.username
    assert body["state"] == "active"
    assert body["selfUri"] == f"/api/v2/users/{ALICE.id}"
    assert response.headers["ININ-Correlation-Id"]


def test_users_me_with_client_credentials_needs_a_user_context(client):
    """REFERENCE §1 step 4: gc's message; status 400 / bad.request is our best understanding."""
    response = client.get("/api/v2/users/me", headers=bearer(cc_token(client)))
    assert_genesys_error(response, 400, "bad.request")
    assert response.json["message"] == USER_CONTEXT


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Token abc"},
])
@pytest.mark.parametrize("path", ["/api/v2/users/me", "/api/v2/tokens/me"])
def test_missing_or_bad_token_is_401_bad_credentials(client, headers, path):
    response = client.get(path, headers=headers)
    assert_genesys_error(response, 401, "bad.credentials")
    assert response.json["message"] == "Invalid login credentials."


def test_expired_token_is_401(app, client, clock):
    token = issue_token(app, IMPLICIT.id, ALICE.id, expires_in=300)
    clock.advance(299)
    assert client.get("/api/v2/users/me", headers=bearer(token)).status_code == 200
    clock.advance(1)
    assert_genesys_error(client.get("/api/v2/users/me", headers=bearer(token)), 401,
                         "bad.credentials")


def test_tokens_me_describes_a_user_token(app, client):
    token = issue_token(app, PKCE.id, ALICE.id)
    info = client.get("/api/v2/tokens/me", headers=bearer(token)).json
    assert info["OAuthClient"]["id"] == PKCE.id
    body = info["mockIdp"]  # what Genesys's TokenInfo lacks, under the mock's one extension key
    assert body["client"] == {"id": PKCE.id, "name": PKCE.name}
    assert body["user"]["id"] == ALICE.id
    assert body["grantType"] == "authorization_code"
    assert RFC3339.fullmatch(body["expiresAt"]) and RFC3339.fullmatch(body["issuedAt"])
    assert body["expiresInSeconds"] == PKCE.access_token_validity_seconds


def test_tokens_me_describes_a_client_credentials_token(client, clock):
    body = client.get("/api/v2/tokens/me", headers=bearer(cc_token(client))).json["mockIdp"]
    assert body["client"]["id"] == CC.id and "user" not in body
    assert body["grantType"] == "client_credentials"
    assert body["expiresAt"] == "2023-11-15T22:13:20Z"  # FrozenClock start + 86400


def test_delete_tokens_me_revokes(client):
    token = cc_token(client)
    response = client.delete("/api/v2/tokens/me", headers=bearer(token))
    assert response.status_code == 204
    assert_genesys_error(client.get("/api/v2/tokens/me", headers=bearer(token)), 401,
                         "bad.credentials")
    assert_genesys_error(client.delete("/api/v2/tokens/me", headers=bearer(token)), 401,
                         "bad.credentials")


def test_revoking_one_token_leaves_others(client):
    first, second = cc_token(client), cc_token(client)
    client.delete("/api/v2/tokens/me", headers=bearer(first))
    assert client.get("/api/v2/tokens/me", headers=bearer(second)).status_code == 200


@pytest.mark.parametrize("method, path, status, code", [
    ("GET", "/api/v2/nothing-here", 404, "not.found"),
    ("POST", "/api/v2/users/me", 405, "method.not.allowed"),
    ("PATCH", "/api/v2/tokens/me", 405, "method.not.allowed"),
])
def test_unknown_api_routes_are_genesys_errors(client, method, path, status, code):
    assert_genesys_error(client.open(path, method=method), status, code)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert "X-Mock-Idp-Worker" not in response.headers
