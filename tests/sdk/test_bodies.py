"""The mock's JSON against the SDK models (the public description of Genesys's JSON):
no field a model lacks, except under the one extension key; no required field missing."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from .conftest import ALICE, CC, IMPLICIT, TIMEOUT, admin_token
from .models import EXTENSION_KEY, assert_valid, problems

pytestmark = pytest.mark.usefixtures("sdk_models")


def test_the_validator_catches_unknown_and_missing_fields():
    assert problems({"name": "x", "authorizedGrantType": "CODE", "roles": []}, "OAuthClient") \
        == ["$.roles: not a field of OAuthClient"]
    assert problems({"authorizedGrantType": "CODE"}, "OAuthClient") == \
        ["$.name: required by OAuthClient, missing"]
    assert problems({"organization": {"id": "o", "selfUri": "/x"}}, "TokenInfo") == \
        ["$.organization.selfUri: not a field of NamedEntity"]


def get(base: str, path: str, token: str, **params) -> requests.Response:
    return requests.get(base + path, headers={"Authorization": f"Bearer {token}"}, params=params,
                        timeout=TIMEOUT)


def user_token(base: str, user) -> str:
    query = urlencode({"response_type": "token", "client_id": IMPLICIT.id,
                       "redirect_uri": "http://127.0.0.1:8080/callback/127.0.0.1_8081"})
    location = user.sign_in(f"{base}/oauth/authorize?{query}")
    return parse_qs(urlsplit(location).fragment)["access_token"][0]


def test_tokens_me_is_a_token_info_with_the_mock_fields_under_one_key(mock_url):
    body = get(mock_url, "/api/v2/tokens/me", admin_token(mock_url)).json()
    assert_valid(body, "TokenInfo")
    assert body[EXTENSION_KEY]["client"]["id"] == CC.id
    assert body["OAuthClient"]["authorizedGrantType"] == "CLIENT-CREDENTIALS"


def test_users_me_is_a_user_me_and_fills_expand(mock_url, user):
    token = user_token(mock_url, user)
    plain = get(mock_url, "/api/v2/users/me", token).json()
    assert_valid(plain, "UserMe")
    assert "organization" not in plain and "token" not in plain
    expanded = get(mock_url, "/api/v2/users/me", token,
                   expand=["organization", "token", "authorization,dateLastLogin"]).json()
    assert_valid(expanded, "UserMe")
    assert expanded["id"] == ALICE.id and expanded["organization"]["version"] == 1
    assert expanded["token"]["OAuthClient"]["id"] == IMPLICIT.id
    assert "roles" in expanded["authorization"] and expanded["dateLastLogin"]


def test_an_unknown_expand_is_a_400_naming_it(mock_url, user):
    response = get(mock_url, "/api/v2/users/me", user_token(mock_url, user), expand="nonsense")
    assert response.status_code == 400 and "'nonsense'" in response.json()["message"]
    assert_valid(response.json(), "ErrorBody")


def test_oauth_clients_and_listings_are_sdk_models_with_paging_uris(mock_url):
    token = admin_token(mock_url)
    listing = get(mock_url, "/api/v2/oauth/clients", token).json()
    assert_valid(listing, "OAuthClientEntityListing")
    assert listing["firstUri"] and listing["lastUri"] and listing["pageCount"] == 1
    one = get(mock_url, f"/api/v2/oauth/clients/{CC.id}", token).json()
    assert_valid(one, "OAuthClient")
    assert one["roleIds"] == ["admin"] and one["createdBy"]["id"]


def test_error_bodies_are_error_bodies(mock_url):
    token = admin_token(mock_url)
    missing = get(mock_url, "/api/v2/oauth/clients/no-such-client", token)
    assert missing.status_code == 404
    assert_valid(missing.json(), "ErrorBody")
    bad = requests.post(mock_url + "/api/v2/oauth/clients", json={"name": "x", "authorizedGrantType": "NOPE"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert bad.status_code == 400
    assert_valid(bad.json(), "ErrorBody")
    unauthorized = get(mock_url, "/api/v2/users/me", "not-a-token")
    assert unauthorized.status_code == 401
    assert_valid(unauthorized.json(), "ErrorBody")


def test_role_ids_set_the_client_roles(mock_url):
    token = admin_token(mock_url)
    made = requests.post(mock_url + "/api/v2/oauth/clients", headers={"Authorization": f"Bearer {token}"},
                         json={"name": "r", "authorizedGrantType": "CLIENT-CREDENTIALS", "roleIds": ["admin"]},
                         timeout=TIMEOUT).json()
    assert_valid(made, "OAuthClient")
    assert made["roleIds"] == ["admin"]


def test_delete_tokens_me_is_204_without_a_content_type(mock_url):
    response = requests.delete(mock_url + "/api/v2/tokens/me",
                               headers={"Authorization": f"Bearer {admin_token(mock_url)}"}, timeout=TIMEOUT)
    assert response.status_code == 204 and "Content-Type" not in response.headers
    assert response.content == b""


def test_a_public_code_client_is_an_oauth_client_without_a_secret(mock_url):
    """The extension in the request (allowed by OAuthClientRequest's one extension key) and
    in the answer: an OAuthClient whose optional `secret` is absent, never null."""
    token = admin_token(mock_url)
    body = {"name": "spa", "authorizedGrantType": "CODE", "registeredRedirectUri": ["http://127.0.0.1:9"],
            EXTENSION_KEY: {"publicClient": True}}
    assert_valid(body, "OAuthClientRequest")
    made = requests.post(mock_url + "/api/v2/oauth/clients", headers={"Authorization": f"Bearer {token}"},
                         json=body, timeout=TIMEOUT).json()
    assert_valid(made, "OAuthClient")
    assert "secret" not in made and made[EXTENSION_KEY] == {"publicClient": True}
    confidential = requests.post(mock_url + "/api/v2/oauth/clients", headers={"Authorization": f"Bearer {token}"},
                                 json={**body, EXTENSION_KEY: {"publicClient": False}}, timeout=TIMEOUT).json()
    assert_valid(confidential, "OAuthClient")
    assert confidential["secret"] and EXTENSION_KEY not in confidential
