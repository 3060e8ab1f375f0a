"""Admin API for OAuth clients, shaped like Genesys's /api/v2/oauth/clients.

Usable only with a token whose client has the admin role. A client's secret is
returned once, by POST. Changes are in the shared store, so every worker sees them.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, json, jsonify, request

from .api import require_token
from .client_spec import ClientSpec, ClientSpecError, client_spec
from .errors import ApiError, api_headers
from .extension import ext
from .models import Client

bp = Blueprint("clients_api", __name__, url_prefix="/api/v2/oauth/clients")
bp.after_request(api_headers)

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


# ClientSpec field -> Genesys JSON key: the client rules themselves are in client_spec.py.
_SPEC_KEYS = {"name": "name", "description": "description",
              "grant_type": "authorizedGrantType", "redirect_uris": "registeredRedirectUri",
              "scope": "scope", "validity": "accessTokenValiditySeconds", "roles": "roles"}


def parse_client_body(body: Any) -> ClientSpec:
    """Validate a POST/PUT body; ApiError 400 names the first bad field."""
    if not isinstance(body, dict):
        raise ApiError(400, "bad.request", "The request body must be a JSON object.")
    try:
        return client_spec({field: body[key] for field, key in _SPEC_KEYS.items() if key in body})
    except ClientSpecError as error:
        field = _SPEC_KEYS[error.field]
        raise ApiError(400, "bad.request", f"{field}: {error.problem}",
                       details=[{"fieldName": field, "errorMessage": error.problem}]) from None


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
