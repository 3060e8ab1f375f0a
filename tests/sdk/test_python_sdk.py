"""Genesys's Python SDK (PyPI purecloudplatformclientv2), unmodified, against the mock.

The only setting is the host: the SDK derives the login URL from it (api. -> login.),
and on 127.0.0.1 both are the mock.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import PureCloudPlatformClientV2 as genesys
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from mock_idp.api import USER_CONTEXT_REQUIRED

from .conftest import ALICE, CC, PKCE


REDIRECT = "http://127.0.0.1:8080/callback/127.0.0.1_8081"  # registered for the demo PKCE client


@pytest.fixture
def cc_client(mock_url) -> genesys.ApiClient:
    return genesys.ApiClient(host=mock_url).get_client_credentials_token(CC.id, CC.secret)


def api_error(excinfo: pytest.ExceptionInfo[ApiException]) -> dict:
    return json.loads(excinfo.value.body)


def test_client_credentials_login_gives_a_token_the_api_accepts(cc_client):
    assert cc_client.access_token
    info = genesys.TokensApi(cc_client).get_tokens_me()
    assert info.o_auth_client.id == CC.id and info.o_auth_client.name == CC.name
    assert info.organization.id and info.home_organization.id == info.organization.id


def test_get_users_me_with_client_credentials_raises_the_user_context_error(cc_client):
    with pytest.raises(ApiException) as excinfo:
        genesys.UsersApi(cc_client).get_users_me()
    assert excinfo.value.status == 400
    body = api_error(excinfo)
    assert body["message"] == USER_CONTEXT_REQUIRED and body["code"] == "bad.request"


def test_oauth_client_admin_calls_create_get_list_delete(cc_client):
    api = genesys.OAuthApi(cc_client)
    request = genesys.OAuthClientRequest()
    request.name = "sdk-made"
    request.authorized_grant_type = "CODE"
    request.registered_redirect_uri = ["http://127.0.0.1:8080/callback/127.0.0.1_8081"]
    request.access_token_validity_seconds = 3600
    made = api.post_oauth_clients(request)
    assert made.id and made.secret and made.name == "sdk-made"
    assert made.authorized_grant_type == "CODE" and made.access_token_validity_seconds == 3600
    fetched = api.get_oauth_client(made.id)
    assert fetched.id == made.id and fetched.registered_redirect_uri == request.registered_redirect_uri
    assert fetched.secret is None  # the secret is shown once, at creation
    listing = api.get_oauth_clients()
    assert made.id in [c.id for c in listing.entities] and listing.total == len(listing.entities)
    api.delete_oauth_client(made.id)
    with pytest.raises(ApiException) as excinfo:
        api.get_oauth_client(made.id)
    assert excinfo.value.status == 404


def test_pkce_login_then_users_me_is_the_user(mock_url, user):
    client = genesys.ApiClient(host=mock_url)
    verifier = client.generate_pkce_code_verifier(64)
    query = urlencode({"response_type": "code", "client_id": PKCE.id,
                       "redirect_uri": REDIRECT,
                       "code_challenge": client.compute_pkce_code_challenge(verifier),
                       "code_challenge_method": "S256"})
    location = user.sign_in(f"{mock_url}/oauth/authorize?{query}")
    code = parse_qs(urlsplit(location).query)["code"][0]
    client, token = client.get_pkce_token(PKCE.id, verifier, code, REDIRECT)
    assert token["token_type"] == "bearer" and "refresh_token" not in token
    me = genesys.UsersApi(client).get_users_me()
    assert me.id == ALICE.id and me.email == ALICE.email and me.name == ALICE.name


def test_delete_tokens_me_then_the_token_gets_401(cc_client):
    tokens = genesys.TokensApi(cc_client)
    tokens.delete_tokens_me()
    with pytest.raises(ApiException) as excinfo:
        tokens.get_tokens_me()
    assert excinfo.value.status == 401
    assert api_error(excinfo)["code"] == "bad.credentials"


def test_code_authorization_with_refresh_and_a_reused_refresh_token_ends_the_login(cc_client, mock_url, user):
    request = genesys.OAuthClientRequest()
    request.name = "sdk-web-app"
    request.authorized_grant_type = "CODE"
    request.registered_redirect_uri = [REDIRECT]
    made = genesys.OAuthApi(cc_client).post_oauth_clients(request)  # a secret: confidential
    query = urlencode({"response_type": "code", "client_id": made.id, "redirect_uri": REDIRECT})
    code = parse_qs(urlsplit(user.sign_in(f"{mock_url}/oauth/authorize?{query}")).query)["code"][0]

    client, token = genesys.ApiClient(host=mock_url).get_code_authorization_token(
        made.id, made.secret, code, REDIRECT)
    first_refresh = client.refresh_token
    assert first_refresh and token["refresh_token"] == first_refresh
    assert genesys.UsersApi(client).get_users_me().id == ALICE.id

    client, renewed = client.refresh_code_authorization_token(made.id, made.secret, first_refresh)
    assert renewed["refresh_token"] != first_refresh and client.refresh_token == renewed["refresh_token"]
    assert genesys.UsersApi(client).get_users_me().id == ALICE.id

    with pytest.raises(ApiException) as excinfo:  # the used one again: a replay
        genesys.ApiClient(host=mock_url).refresh_code_authorization_token(made.id, made.secret, first_refresh)
    assert excinfo.value.status == 400 and api_error(excinfo)["error"] == "invalid_grant"
    stale = genesys.ApiClient(host=mock_url)
    stale.access_token = renewed["access_token"]
    with pytest.raises(ApiException) as excinfo:  # the whole login is over
        genesys.UsersApi(stale).get_users_me()
    assert excinfo.value.status == 401
