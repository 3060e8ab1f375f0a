"""Confidential and public CODE clients made through the admin API, on both store engines.

Every client the admin API makes has a secret (as in Genesys), so a CODE client is
confidential and must send it at the token endpoint, PKCE or not (RFC 6749 §3.2.1).
A public PKCE client is the mock's extension `{"mockIdp": {"publicClient": true}}`.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_idp.clients_api import public_client_requested
from mock_idp.errors import ApiError

from .conftest import REDIRECT, bearer, cc_token, code_params, pkce_pair, query

PUBLIC = {"mockIdp": {"publicClient": True}}
CLIENTS = "/api/v2/oauth/clients"


@pytest.fixture
def admin(client):
    return bearer(cc_token(client))


def make(client, admin, grant="CODE", **extra):
    body = {"name": f"{grant} app", "authorizedGrantType": grant, "registeredRedirectUri": [REDIRECT],
            **extra}
    return client.post(CLIENTS, json=body, headers=admin)


def pkce_code(login, client_id: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    done = login.run(**code_params(challenge, client_id=client_id))
    assert done.status_code == 302, done.get_data(as_text=True)
    return query(done.headers["Location"])["code"], verifier


def token_request(client, code: str, verifier: str, client_id: str, auth=None, **extra):
    return client.post("/oauth/token", auth=auth, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": verifier, **extra})


def test_an_admin_made_code_client_must_send_its_secret(client, admin, login):
    made = make(client, admin).json
    assert made["secret"] and "mockIdp" not in made
    code, verifier = pkce_code(login, made["id"])
    refused = token_request(client, code, verifier, made["id"])
    assert refused.status_code == 400 and refused.json["error"] == "invalid_client"
    assert "confidential" in refused.json["error_description"]
    assert "access_token" not in refused.json
    basic = token_request(client, code, verifier, made["id"], auth=(made["id"], made["secret"]))
    assert basic.status_code == 200 and basic.json["access_token"] and basic.json["refresh_token"]
    code, verifier = pkce_code(login, made["id"])
    post = token_request(client, code, verifier, made["id"], client_secret=made["secret"])
    assert post.status_code == 200 and post.json["refresh_token"]


def test_a_wrong_secret_with_a_right_verifier_is_invalid_client(client, admin, login):
    made = make(client, admin).json
    code, verifier = pkce_code(login, made["id"])
    response = token_request(client, code, verifier, made["id"], auth=(made["id"], "not-its-secret"))
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_a_public_code_client_logs_in_with_pkce_alone(client, admin, login):
    response = make(client, admin, **PUBLIC)
    assert response.status_code == 200, response.json
    made = response.json
    assert "secret" not in made and made["mockIdp"] == {"publicClient": True}
    shown = client.get(f"{CLIENTS}/{made['id']}", headers=admin).json
    assert shown["mockIdp"] == {"publicClient": True} and "secret" not in shown
    code, verifier = pkce_code(login, made["id"])
    token = token_request(client, code, verifier, made["id"])
    assert token.status_code == 200, token.json
    assert token.json["access_token"] and "refresh_token" not in token.json
    me = client.get("/api/v2/users/me", headers=bearer(token.json["access_token"]))
    assert me.status_code == 200


def test_a_public_code_client_still_needs_pkce_at_authorize(client, admin, login):
    made = make(client, admin, **PUBLIC).json
    page = login.start(response_type="code", client_id=made["id"], redirect_uri=REDIRECT, state="s")
    assert page.status_code == 302
    assert query(page.headers["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize("grant, redirects", [("CLIENT-CREDENTIALS", []), ("TOKEN", [REDIRECT])])
def test_only_a_code_client_may_be_public(client, admin, grant, redirects):
    response = make(client, admin, grant=grant, registeredRedirectUri=redirects, **PUBLIC)
    assert response.status_code == 400
    assert response.json["details"][0]["fieldName"] == "mockIdp.publicClient"
    assert response.json["message"].startswith("mockIdp.publicClient:") and grant in response.json["message"]
    assert all(c["name"] != f"{grant} app" for c in client.get(CLIENTS, headers=admin).json["entities"])


@pytest.mark.parametrize("extension, field", [
    ("yes", "mockIdp"), ({"publicClient": "true"}, "mockIdp.publicClient"),
    ({"public": True}, "mockIdp.public"),
])
def test_a_malformed_extension_is_400_naming_the_field(client, admin, extension, field):
    response = make(client, admin, mockIdp=extension)
    assert response.status_code == 400 and response.json["details"][0]["fieldName"] == field


def test_publicclient_false_is_an_ordinary_confidential_client(client, admin):
    made = make(client, admin, mockIdp={"publicClient": False}).json
    assert made["secret"] and "mockIdp" not in made


def test_an_update_keeps_the_secret_or_its_absence(client, admin):
    public = make(client, admin, **PUBLIC).json
    body = {"name": "renamed", "authorizedGrantType": "CODE", "registeredRedirectUri": [REDIRECT]}
    kept = client.put(f"{CLIENTS}/{public['id']}", json={**body, **PUBLIC}, headers=admin)
    assert kept.status_code == 200 and kept.json["mockIdp"] == {"publicClient": True}
    flip = client.put(f"{CLIENTS}/{public['id']}", json={**body, "mockIdp": {"publicClient": False}},
                      headers=admin)
    assert flip.status_code == 400 and flip.json["details"][0]["fieldName"] == "mockIdp.publicClient"
    to_cc = client.put(f"{CLIENTS}/{public['id']}", headers=admin,
                       json={**body, "authorizedGrantType": "CLIENT-CREDENTIALS"})
    assert to_cc.status_code == 400 and to_cc.json["details"][0]["fieldName"] == "authorizedGrantType"
    confidential = make(client, admin).json
    made_public = client.put(f"{CLIENTS}/{confidential['id']}", json={**body, **PUBLIC}, headers=admin)
    assert made_public.status_code == 400
    assert "mockIdp" not in client.get(f"{CLIENTS}/{confidential['id']}", headers=admin).json


GRANTS = st.sampled_from(["CODE", "TOKEN", "CLIENT-CREDENTIALS", "other"])


@given(st.dictionaries(st.text(max_size=5), st.none() | st.booleans() | st.text(max_size=5), max_size=3)
       | st.booleans() | st.text(max_size=5), GRANTS)
def test_the_extension_parser_is_true_only_for_a_well_formed_code_request(extension, grant):
    try:
        public = public_client_requested({"mockIdp": extension}, grant)
    except ApiError as error:
        assert error.status == 400 and error.details[0]["fieldName"].startswith("mockIdp")
        assert not (extension == {"publicClient": True} and grant == "CODE")
    else:
        assert public == (extension == {"publicClient": True})
        assert not public or grant == "CODE"
        assert extension in ({}, {"publicClient": False}, {"publicClient": True})


@given(GRANTS)
def test_no_extension_is_never_public(grant):
    assert public_client_requested({"name": "x"}, grant) is False
