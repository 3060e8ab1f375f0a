"""The Genesys API paths: /api/v2/users/me and /api/v2/tokens/me, behind a bearer token.

Every /api/v2 response carries ININ-Correlation-Id (= contextId of error bodies).
"""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Blueprint, Response, jsonify, request

from .errors import ApiError, api_headers, no_content
from .extension import ext
from .models import Token, User, rfc3339
from .store_api import Store

bp = Blueprint("api", __name__, url_prefix="/api/v2")
bp.after_request(api_headers)

ORGANIZATION = {"id": "00000000-0000-4000-8000-00000000c0de", "name": "Mock Org",
                "selfUri": "/api/v2/organizations/00000000-0000-4000-8000-00000000c0de"}
HOME_DIVISION = {"id": "00000000-0000-4000-8000-0000000d1v00", "name": "Home",
                 "selfUri": "/api/v2/authorization/divisions/00000000-0000-4000-8000-0000000d1v00"}
BAD_CREDENTIALS = ("bad.credentials", "Invalid login credentials.")
USER_CONTEXT_REQUIRED = ("This request requires a user context. "
                         "Client credentials cannot be used for requests to this resource.")


class _StoreValidator(BearerTokenValidator):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string: str) -> Token | None:
        return self.store.find_token(token_string)


def make_protector(store: Store) -> ResourceProtector:
    protector = ResourceProtector()
    protector.register_token_validator(_StoreValidator(store))
    return protector


def require_token() -> Token:
    """The request's valid bearer token; missing, unknown, expired or revoked: 401."""
    try:
        return ext().protector.acquire_token()
    except OAuth2Error:
        raise ApiError(401, *BAD_CREDENTIALS) from None


#: The key under which the mock adds what Genesys's models lack (its one extension).
EXTENSION_KEY = "mockIdp"
#: UserMe's expand values (the SDK's list): the mock fills these, and accepts the rest.
EXPANDS_FILLED = ("organization", "token", "authorization", "dateLastLogin")
EXPANDS = ("routingStatus", "presence", "integrationPresence", "conversationSummary",
           "outOfOffice", "geolocation", "station", "authorization", "lasttokenissued",
           "dateLastLogin", "authorization.unusedRoles", "team", "workPlanBidRanks",
           "externalContactsSettings", "profileSkills", "certifications", "locations", "groups",
           "skills", "languages", "languagePreference", "employerInfo", "biography",
           "callforwarding", "date", "geolocationsettings", "organization", "presencedefinitions",
           "locationdefinitions", "orgauthorization", "orgproducts", "favorites", "superiors",
           "directreports", "adjacents", "routingskills", "routinglanguages", "fieldconfigs",
           "token", "trustors", "logCapture", "customAttributes")


def user_json(user: User) -> dict:
    """Genesys's shape; the seed's extra fields (title, department, ...) are added as given."""
    return {
        "id": user.id, "name": user.name, "division": HOME_DIVISION,
        "chat": {"jabberId": f"{user.id}@mock.inindca.com"}, "email": user.email,
        "primaryContactInfo": [{"address": user.email, "mediaType": "EMAIL", "type": "PRIMARY"}],
        "addresses": [], "state": "active", "username": user.username, "version": 1,
        "acdAutoAnswer": False, **user.extra, "selfUri": f"/api/v2/users/{user.id}",
    }


def expands(values: list[str]) -> list[str]:
    """The expand values asked for (repeated, or comma-separated); ApiError for unknown ones."""
    asked = [v.strip() for value in values for v in value.split(",") if v.strip()]
    unknown = [v for v in asked if v not in EXPANDS]
    if unknown:
        raise ApiError(400, "bad.request", f"expand: {unknown[0]!r} is not one of the values "
                       "GET /api/v2/users/me accepts.",
                       details=[{"fieldName": "expand", "errorCode": "invalid.value"}])
    return asked


def user_me_json(token: Token, asked: list[str]) -> dict:
    assert token.user is not None
    body = user_json(token.user)
    if "organization" in asked:
        body["organization"] = {**ORGANIZATION, "state": "active", "version": 1,
                                "domain": "mock", "defaultLanguage": "en-us",
                                "selfUri": f"/api/v2/organizations/{ORGANIZATION['id']}"}
    if "token" in asked:
        body["token"] = token_json(token)
    if "authorization" in asked:
        body["authorization"] = {"roles": [{"id": role, "name": role} for role in token.roles],
                                 "permissions": []}
    if "dateLastLogin" in asked:
        body["dateLastLogin"] = rfc3339(token.issued_at)
    return body


def token_json(token: Token) -> dict:
    """A TokenInfo as the SDK models it; what Genesys does not say is under EXTENSION_KEY."""
    client = token.client
    extension: dict = {
        "client": {"id": client.id, "name": client.name},
        "grantType": token.grant_type,
        "issuedAt": rfc3339(token.issued_at),
        "expiresAt": rfc3339(token.expires_at),
        "expiresInSeconds": max(0, int(token.expires_at - token.now)),
    }
    if token.user is not None:
        extension["user"] = {"id": token.user.id, "name": token.user.name,
                             "username": token.user.username, "email": token.user.email,
                             "selfUri": f"/api/v2/users/{token.user.id}"}
    organization = {"id": ORGANIZATION["id"], "name": ORGANIZATION["name"]}
    return {
        "organization": organization, "homeOrganization": organization,
        "authorizedScope": token.scope.split() if token.scope else [],
        "OAuthClient": {"id": client.id, "name": client.name, "dateCreated": client.date_created,
                        "authorizedGrantType": client.grant_type, "scope": list(client.scope),
                        "state": "active", "organization": organization},
        EXTENSION_KEY: extension,
    }


@bp.get("/users/me")
def users_me() -> Response:
    token = require_token()
    if token.user is None:
        # Our best understanding of Genesys's status and code; the message is theirs.
        raise ApiError(400, "bad.request", USER_CONTEXT_REQUIRED)
    return jsonify(user_me_json(token, expands(request.args.getlist("expand"))))


@bp.get("/tokens/me")
def tokens_me() -> Response:
    return jsonify(token_json(require_token()))


@bp.delete("/tokens/me")
def revoke_token() -> Response:
    token = require_token()
    ext().store.revoke_token(token)
    return no_content()
