"""Authlib's authorization server wired to the store: grants, token generation, requests.

Requests are Authlib's Flask wrapper under a fixed https origin; the leaner wrapper that
replaced it measured under the 15 % it had to buy (docs/performance.md) and is gone.

Grants are Authlib's, subclassed only for storage hooks; PKCE is required for
every code request and only S256 is accepted (R14). Access tokens are signed
claims (access_tokens.py): issuing one stores nothing, except which token a code
gave, so that a replay of the code can revoke it.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidClientError,
    InvalidRequestError,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask
from flask import request as flask_request
from werkzeug.datastructures import MultiDict

from .models import AuthCode, Client, User
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
        # Token grants are tried in this order: the busiest first.
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(ImplicitGrant)
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True)])

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
        if isinstance(error, UnsupportedGrantTypeError):
            error.description = (f"grant_type={error.grant_type} is not supported; use "
                                 "client_credentials or authorization_code.")
        if isinstance(error, AccessDeniedError):
            error.description = "The user cancelled the sign-in."
        return super().handle_error_response(request, error)

    def _generate_token(self, grant_type: str, client: Client, user: User | None = None,
                        scope: str | None = None, expires_in: int | None = None,
                        include_refresh_token: bool = True) -> dict[str, Any]:
        """Authlib's bearer token response, Genesys-shaped: "bearer", the client's
        validity, and no refresh token at all (R10; Genesys issues none here)."""
        scope = BearerTokenGenerator.get_allowed_scope(client, scope)
        expires_in = client.validity if expires_in is None else expires_in
        token = {"access_token": self.store.issue_token(
                     client, user_id=user.id if user else None, grant_type=grant_type,
                     scope=scope, expires_in=expires_in),
                 "token_type": "bearer", "expires_in": expires_in}
        if scope:
            token["scope"] = scope
        return token

    def _save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store for a token, except which one a code gave (RFC 6749 §4.1.2)."""
        code = request.authorization_code
        if isinstance(code, AuthCode):
            claims = self.store.token_claims(token["access_token"])
            assert claims is not None  # just signed by this store
            self.store.note_code_token(code.code_hash, claims)


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


class S256CodeChallenge(CodeChallenge):
    """PKCE required on every code request, S256 only (R13, R14)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": CodeChallenge.CODE_CHALLENGE_METHODS["S256"]}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
