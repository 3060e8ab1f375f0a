"""Authlib's authorization server wired to the store: grants, token generation, requests.

Requests are Authlib's Flask wrapper under a fixed https origin; the leaner wrapper that
replaced it measured under the 15 % it had to buy (docs/performance.md) and is gone.

Grants are Authlib's, subclassed only for storage hooks. PKCE is required for every
code request of a public client and only S256 is accepted (R14); a confidential CODE
client (one with a secret: Genesys's Code Authorization grant) may do without it (when
sent it is checked), must authenticate at the token endpoint with its secret, PKCE or
not (RFC 6749 §3.2.1), and gets a single-use refresh token. Access tokens are signed
claims (access_tokens.py): issuing one stores nothing, except which token a code
gave, so that a replay of the code can revoke it.
"""
from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask
from flask import request as flask_request
from werkzeug.datastructures import MultiDict

from .client_auth import authenticate_basic, authenticate_none
from .models import AuthCode, Client, RefreshToken, User
from .store_api import Store


_TLS_NEUTRAL_ORIGIN = "https://mock-idp.invalid"


def _tls_neutral(path: str) -> str:
    # Authlib refuses request URIs that are not https (or loopback http). The mock is
    # plain HTTP by design (CI, compose networks such as http://idp:8081); TLS is the
    # client's concern (R11). Authlib uses the URI for nothing else, so a fixed origin does.
    return _TLS_NEUTRAL_ORIGIN + path


class TlsNeutralRequest(FlaskOAuth2Request):
    """Authlib's Flask request with the TLS-neutral URI, for any request passed in (the
    token fast path has no request context)."""

    def __init__(self, request: Any) -> None:
        OAuth2Request.__init__(self, method=request.method, uri=_tls_neutral(request.path),
                               headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class _PairsPayload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._data = MultiDict(pairs)
        self._datalist: defaultdict[str, list] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)

    @property
    def data(self) -> MultiDict:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class ReplayedRequest(OAuth2Request):
    """An authorize request replayed from the store when the login form is posted."""

    def __init__(self, pairs: list[tuple[str, str]], headers: Any) -> None:
        super().__init__(method="GET", uri=_tls_neutral(flask_request.path), headers=headers)
        self.payload = _PairsPayload(pairs)
        self._args = self.payload.data

    @property
    def args(self) -> MultiDict:
        return self._args

    @property
    def form(self) -> MultiDict:
        return MultiDict()


class MockAuthorizationServer(AuthorizationServer):
    def __init__(self, app: Flask, store: Store) -> None:
        self.store = store
        super().__init__(app, query_client=self._query_client_by_id, save_token=self._save_token)
        self.register_token_generator("default", self._generate_token)
        self.register_client_auth_method("client_secret_basic", authenticate_basic)
        self.register_client_auth_method("none", authenticate_none)
        # Token grants are tried in this order: the busiest first.
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(ImplicitGrant)
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RefreshTokenGrant)

    def _query_client_by_id(self, client_id: str) -> Client | None:
        return self.store.get_client(client_id) if isinstance(client_id, str) else None

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        # A request passed in (the token endpoint's, perhaps outside any request context),
        # or Flask's current one.
        current = flask_request._get_current_object() if request is None else request  # type: ignore[attr-defined]
        return TlsNeutralRequest(current)

    def handle_error_response(self, request: OAuth2Request, error: Any):
        # RFC 6749 §5.2: 401 + WWW-Authenticate only when the client used the
        # Authorization header; Authlib answers 401 whenever Basic was allowed.
        if isinstance(error, InvalidClientError) and error.status_code == 401 \
                and not request.headers.get("Authorization"):
            error.status_code = 400
        if isinstance(error, InvalidClientError) and error.description \
                and error.description.startswith("The client cannot authenticate"):
            error.description = _invalid_client_sentence(
                request, self._query_client_by_id(request.payload.client_id))
        if isinstance(error, UnsupportedGrantTypeError):
            error.description = (f"grant_type={error.grant_type} is not supported; use "
                                 "client_credentials, authorization_code or refresh_token.")
        if isinstance(error, AccessDeniedError):
            error.description = "The user cancelled the sign-in."
        return super().handle_error_response(request, error)

    def _generate_token(self, grant_type: str, client: Client, user: User | None = None,
                        scope: str | None = None, expires_in: int | None = None,
                        include_refresh_token: bool = True) -> dict[str, Any]:
        """Authlib's bearer token response, Genesys-shaped: "bearer", the client's
        validity, and a refresh token only for a confidential Code Authorization client
        that authenticated (R10: none for client credentials or implicit); _save_token
        stores it."""
        scope = BearerTokenGenerator.get_allowed_scope(client, scope)
        expires_in = client.validity if expires_in is None else expires_in
        token = {"access_token": self.store.issue_token(
                     client, user_id=user.id if user else None, grant_type=grant_type,
                     scope=scope, expires_in=expires_in),
                 "token_type": "bearer", "expires_in": expires_in}
        if scope:
            token["scope"] = scope
        if include_refresh_token and user is not None and client.is_confidential:
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def _save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store for an access token, except which one a code gave (RFC 6749
        §4.1.2); a refresh token is stored with its login: a new one for a code, the
        renewed token's for a refresh."""
        code = request.authorization_code
        if not isinstance(code, AuthCode) and "refresh_token" not in token:
            return
        claims = self.store.token_claims(token["access_token"])
        assert claims is not None  # just signed by this store
        if isinstance(code, AuthCode):
            self.store.note_code_token(code.code_hash, claims)
        if "refresh_token" in token:
            renewed = request.refresh_token
            login_id = renewed.login_id if isinstance(renewed, RefreshToken) else secrets.token_urlsafe(16)
            self.store.save_refresh_token(token["refresh_token"], client_id=claims.client_id,
                                          user_id=request.user.id, scope=claims.scope,
                                          login_id=login_id, access=claims)


def _invalid_client_sentence(request: OAuth2Request, named: Client | None) -> str:
    """What Authlib's "cannot authenticate with methods: [...]" means, for a person;
    `named` is the client the body's client_id names, if any."""
    if request.headers.get("Authorization") or request.payload.data.get("client_secret"):
        return "The client id or client secret is wrong."
    if not request.payload.client_id:
        return ("The request does not say which client it is: send the client id and secret "
                "with HTTP Basic (RFC 6749 section 2.3.1), or client_id in the body for a public client.")
    if named is not None and named.is_confidential:
        return ("This client is confidential (it has a client secret): it must send its secret "
                "with HTTP Basic or as client_secret in the body; PKCE alone does not "
                "authenticate it (RFC 6749 section 3.2.1).")
    return ("This client must authenticate for this grant: send its client secret with HTTP "
            "Basic or as client_secret in the body (RFC 6749 section 2.3.1).")


class ImplicitGrant(grants.ImplicitGrant):
    pass


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.server.store.save_code(
            code, client_id=request.client.id, user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri, scope=request.scope or "",
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"))

    def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
        return self.server.store.claim_code(code, client.id)

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        """Nothing to do: claim_code already used it up."""

    def authenticate_user(self, authorization_code: AuthCode) -> User | None:
        return self.server.store.get_user(authorization_code.user_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """grant_type=refresh_token with rotation: each refresh token is single-use (the
    store's consume), and the answer carries the next one."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        found = self.server.store.consume_refresh_token(refresh_token, self.request.client.id)
        if found is None:
            raise InvalidGrantError(description="The refresh token is unknown, expired, already "
                                    "used or another client's; sign in again.")
        return found

    def authenticate_user(self, refresh_token: RefreshToken) -> User | None:
        return self.server.store.get_user(refresh_token.user_id)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Nothing to do: consume_refresh_token already used it up."""


class S256CodeChallenge(CodeChallenge):
    """PKCE required on every code request, S256 only (R13, R14)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": CodeChallenge.CODE_CHALLENGE_METHODS["S256"]}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if not data.get("code_challenge") and not data.get("code_challenge_method") \
                and grant.request.client.is_confidential:
            return  # Code Authorization: the client proves itself with its secret instead
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")

