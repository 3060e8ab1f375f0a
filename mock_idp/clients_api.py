"""Admin API for OAuth clients, shaped like Genesys's /api/v2/oauth/clients.

Usable only with a token whose client has the admin role. A client's secret is
returned once, by POST. Changes are in the shared store, so every worker sees them.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, json, jsonify, request

from service import is_valid_redirect_uri

from .api import require_token
from .errors import ApiError, api_headers
from .extension import ext
from .models import GRANT_TYPES, VALIDITY_DEFAULT, VALIDITY_MAX, VALIDITY_MIN, Client
from .store import ClientSpec

bp = Blueprint("clients_api", __name__, url_prefix="/api/v2/oauth/clients")
bp.after_request(api_headers)

_MAX_NAME = 200
_PERMISSIONS = {"GET": "oauth:client:view", "POST": "oauth:client:add",
                "PUT": "oauth:client:edit", "DELETE": "oauth:client:delete"}


def client_json(client: Client) -> dict:
    return {
        "id": client.id, "name": client.name, "description": client.description,
        "dateCreated": client.date_created, "authorizedGrantType": client.grant_type,
        "registeredRedirectUri": list(client.redirect_uris), "scope": list(client.scope),
        "accessTokenValiditySeconds": client.validity, "roles": list(client.roles),
        "state": "active", "selfUri": f"/api/v2/oauth/clients/{client.id}",
    }


def _invalid(field: str, problem: str) -> ApiError:
    return ApiError(400, "bad.request", f"{field}: {problem}",
                    details=[{"fieldName": field, "errorMessage": problem}])


def _text(body: dict, field: str, *, required: bool, limit: int) -> str:
    value = body.get(field, None if required else "")
    if value is None:
        raise _invalid(field, "is required")
    if not isinstance(value, str):
        raise _invalid(field, "must be a string")
    if required and not value.strip():
        raise _invalid(field, "must not be empty")
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise _invalid(field, f"must be at most {limit} characters without control characters")
    return value


def _text_list(body: dict, field: str) -> tuple[str, ...]:
    value = body.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _invalid(field, "must be a list of non-empty strings")
    return tuple(value)


def parse_client_body(body: Any) -> ClientSpec:
    """Validate a POST/PUT body; ApiError 400 names the first bad field."""
    if not isinstance(body, dict):
        raise ApiError(400, "bad.request", "The request body must be a JSON object.")
    grant = body.get("authorizedGrantType")
    if grant not in GRANT_TYPES:
        raise _invalid("authorizedGrantType", f"must be one of {', '.join(GRANT_TYPES)}")
    uris = _text_list(body, "registeredRedirectUri")
    for uri in uris:
        if not is_valid_redirect_uri(uri):
            raise _invalid("registeredRedirectUri",
                           "each must be an absolute http(s) URI without userinfo or fragment")
    if grant != "CLIENT-CREDENTIALS" and not uris:
        raise _invalid("registeredRedirectUri", f"a {grant} client needs at least one")
    validity = body.get("accessTokenValiditySeconds", VALIDITY_DEFAULT)
    if isinstance(validity, bool) or not isinstance(validity, int) \
            or not VALIDITY_MIN <= validity <= VALIDITY_MAX:
        raise _invalid("accessTokenValiditySeconds",
                       f"must be an integer from {VALIDITY_MIN} to {VALIDITY_MAX}")
    return ClientSpec(
        name=_text(body, "name", required=True, limit=_MAX_NAME),
        description=_text(body, "description", required=False, limit=1000),
        grant_type=grant, redirect_uris=uris, scope=_text_list(body, "scope"),
        validity=validity, roles=_text_list(body, "roles"))


def _json_body() -> Any:
    if not request.is_json:
        raise ApiError(415, "unsupported.media.type",
                       "Send the client as JSON (Content-Type: application/json).")
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        raise ApiError(400, "bad.request", "The request body is not valid JSON.") from None


@bp.before_request
def _require_admin() -> None:
    token = require_token()
    if not token.client.is_admin:
        permission = _PERMISSIONS.get(request.method, "oauth:client:view")
        raise ApiError(403, "missing.permissions",
                       "Unable to perform the requested action. You are missing the following "
                       f"permission(s): [{permission}]")


def _not_found(client_id: str) -> ApiError:
    return ApiError(404, "not.found", "The requested resource was not found.",
                    details=[{"fieldName": "clientId", "errorMessage": "no such client"}])


@bp.get("")
def list_clients() -> Response:
    entities = [client_json(c) for c in ext().store.list_clients()]
    return jsonify({"entities": entities, "pageSize": len(entities), "pageNumber": 1,
                    "total": len(entities), "pageCount": 1,
                    "selfUri": "/api/v2/oauth/clients"})


@bp.post("")
def create_client() -> Response:
    spec = parse_client_body(_json_body())
    client, secret = ext().store.create_client(spec)
    return jsonify({**client_json(client), "secret": secret})


@bp.get("/<client_id>")
def get_client(client_id: str) -> Response:
    client = ext().store.get_client(client_id)
    if client is None:
        raise _not_found(client_id)
    return jsonify(client_json(client))


@bp.put("/<client_id>")
def update_client(client_id: str) -> Response:
    spec = parse_client_body(_json_body())
    client = ext().store.update_client(client_id, spec)
    if client is None:
        raise _not_found(client_id)
    return jsonify(client_json(client))


@bp.delete("/<client_id>")
def delete_client(client_id: str) -> Response:
    if not ext().store.delete_client(client_id):
        raise _not_found(client_id)
    return Response(status=204)
