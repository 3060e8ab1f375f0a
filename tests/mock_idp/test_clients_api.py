"""The admin API /api/v2/oauth/clients: admin-only, Genesys-shaped, validated."""
from __future__ import annotations

import pytest

from mock_idp.testing import issue_token

from .conftest import ALICE, CC, IMPLICIT, PKCE, bearer, cc_token

NEW = {"name": "CI robot", "authorizedGrantType": "CLIENT-CREDENTIALS",
       "registeredRedirectUri": [], "scope": [], "accessTokenValiditySeconds": 600}
BROWSER = {"name": "Browser app", "authorizedGrantType": "TOKEN",
           "registeredRedirectUri": ["http://localhost:9000"]}


@pytest.fixture
def admin(client):
    return bearer(cc_token(client))


def test_list_clients(client, admin):
    body = client.get("/api/v2/oauth/clients", headers=admin).json
    ids = {c["id"] for c in body["entities"]}
    assert ids == {CC.id, IMPLICIT.id, PKCE.id} and body["total"] == 3
    assert all("secret" not in c for c in body["entities"])


def test_create_then_use_the_new_client(client, admin):
    response = client.post("/api/v2/oauth/clients", json=NEW, headers=admin)
    assert response.status_code == 200
    created = response.json
    assert created["name"] == "CI robot" and created["accessTokenValiditySeconds"] == 600
    assert created["authorizedGrantType"] == "CLIENT-CREDENTIALS" and created["dateCreated"]
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(created["id"], created["secret"]))
    assert token.status_code == 200 and token.json["expires_in"] == 600
    shown = client.get(f"/api/v2/oauth/clients/{created['id']}", headers=admin).json
    assert "secret" not in shown and shown["id"] == created["id"]


def test_defaults(client, admin):
    created = client.post("/api/v2/oauth/clients", json=BROWSER, headers=admin).json
    assert created["accessTokenValiditySeconds"] == 86400
    assert created["scope"] == [] and created["description"] == ""


def test_update_changes_behaviour_at_once(client, admin):
    body = {**BROWSER, "name": "Implicit, moved", "registeredRedirectUri": ["http://localhost:9000"]}
    response = client.put(f"/api/v2/oauth/clients/{IMPLICIT.id}", json=body, headers=admin)
    assert response.status_code == 200 and response.json["name"] == "Implicit, moved"
    old = client.get("/oauth/authorize", query_string={
        "response_type": "token", "client_id": IMPLICIT.id, "redirect_uri": "http://localhost:8080"})
    assert old.status_code == 400
    new = client.get("/oauth/authorize", query_string={
        "response_type": "token", "client_id": IMPLICIT.id, "redirect_uri": "http://localhost:9000"})
    assert new.status_code == 200


def test_update_keeps_the_secret(client, admin):
    body = {**NEW, "roles": ["admin"]}
    assert client.put(f"/api/v2/oauth/clients/{CC.id}", json=body, headers=admin).status_code == 200
    cc_token(client)  # the seeded secret still works


def test_delete_client_and_its_tokens(app, client, admin):
    user_token = issue_token(app, IMPLICIT.id, ALICE.id)
    assert client.delete(f"/api/v2/oauth/clients/{IMPLICIT.id}", headers=admin).status_code == 204
    assert client.get(f"/api/v2/oauth/clients/{IMPLICIT.id}", headers=admin).status_code == 404
    assert client.get("/api/v2/users/me", headers=bearer(user_token)).status_code == 401
    assert client.delete(f"/api/v2/oauth/clients/{IMPLICIT.id}", headers=admin).status_code == 404


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_client_is_404(client, admin, method):
    kwargs = {"json": NEW} if method == "PUT" else {}
    response = client.open("/api/v2/oauth/clients/nope", method=method, headers=admin, **kwargs)
    assert response.status_code == 404 and response.json["code"] == "not.found"


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v2/oauth/clients"), ("POST", "/api/v2/oauth/clients"),
    ("GET", f"/api/v2/oauth/clients/{CC.id}"), ("PUT", f"/api/v2/oauth/clients/{CC.id}"),
    ("DELETE", f"/api/v2/oauth/clients/{CC.id}"),
])
def test_non_admin_token_is_403(app, client, method, path):
    token = issue_token(app, IMPLICIT.id, ALICE.id)
    response = client.open(path, method=method, json=NEW, headers=bearer(token))
    assert response.status_code == 403
    assert response.json["code"] == "missing.permissions" and response.json["status"] == 403
    assert "oauth:client:" in response.json["message"]


def test_no_token_is_401(client):
    response = client.get("/api/v2/oauth/clients")
    assert response.status_code == 401 and response.json["code"] == "bad.credentials"


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"name": 5}, "name"),
    ({"authorizedGrantType": "PASSWORD"}, "authorizedGrantType"),
    ({"authorizedGrantType": None}, "authorizedGrantType"),
    ({"accessTokenValiditySeconds": 299}, "accessTokenValiditySeconds"),
    ({"accessTokenValiditySeconds": 172801}, "accessTokenValiditySeconds"),
    ({"accessTokenValiditySeconds": "600"}, "accessTokenValiditySeconds"),
    ({"accessTokenValiditySeconds": True}, "accessTokenValiditySeconds"),
    ({"registeredRedirectUri": "http://localhost:1"}, "registeredRedirectUri"),
    ({"registeredRedirectUri": ["http://localhost:1#frag"]}, "registeredRedirectUri"),
    ({"authorizedGrantType": "CODE", "registeredRedirectUri": []}, "registeredRedirectUri"),
    ({"scope": [1]}, "scope"),
    ({"roles": "admin"}, "roles"),
    ({"description": ["x"]}, "description"),
])
def test_validation_errors_name_the_field(client, admin, change, field):
    body = {k: v for k, v in {**NEW, **change}.items()}
    for method, path in (("POST", "/api/v2/oauth/clients"), ("PUT", f"/api/v2/oauth/clients/{CC.id}")):
        response = client.open(path, method=method, json=body, headers=admin)
        assert response.status_code == 400, response.json
        assert response.json["code"] == "bad.request"
        assert response.json["message"].startswith(field + ":")
        assert response.json["details"][0]["fieldName"] == field


@pytest.mark.parametrize("data, content_type, status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("null", "application/json", 400),
    ("[" * 5000 + "]" * 5000, "application/json", 400),
    ("name=x", "application/x-www-form-urlencoded", 415),
    ("\xff", "application/json", 400),
])
def test_bad_bodies(client, admin, data, content_type, status):
    response = client.post("/api/v2/oauth/clients", data=data, content_type=content_type,
                           headers=admin)
    assert response.status_code == status
    assert response.json["status"] == status and response.json["message"]


def test_oversized_body_is_413(client, admin):
    response = client.post("/api/v2/oauth/clients", json={**NEW, "description": "x" * 100_000},
                           headers=admin)
    assert response.status_code == 413 and response.json["status"] == 413
