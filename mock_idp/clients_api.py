"""Admin API for OAuth clients, shaped like Genesys's /api/v2/oauth/clients.

Usable only with a token whose client has the admin role. A client's secret is
returned once, by POST. Changes are in the shared store, so every worker sees them.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, json, jsonify, request

from .api import require_token
from .client_spec import ClientSpec, ClientSpecError, client_spec
from .errors import ApiError, api_headers, no_content
from .extension import ext
from .models import Client

bp = Blueprint("clients_api", __name__, url_prefix="/api/v2/oauth/clients")
bp.after_request(api_headers)

_PERMISSIONS = {"GET": "oauth:client:view", "POST": "oauth:client:add",
                "PUT": "oauth:client:edit", "DELETE": "oauth:client:delete"}


#: Who made and changed every client, as the SDK's DomainEntityRef: the mock has no
#: such history, so one fixed administrator.
ADMINISTRATOR = {"id": "00000000-0000-4000-8000-0000000ad000", "name": "Mock administrator",
                 "selfUri": "/api/v2/users/00000000-0000-4000-8000-0000000ad000"}
PATH = "/api/v2/oauth/clients"


def client_json(client: Client) -> dict:
    """An OAuthClient as the SDK models it; the mock's roles are its roleIds."""
    return {
        "id": client.id, "name": client.name, "description": client.description,
        "dateCreated": client.date_created, "dateModified": client.date_created,
        "createdBy": ADMINISTRATOR, "modifiedBy": ADMINISTRATOR,
        "authorizedGrantType": client.grant_type,
        "registeredRedirectUri": list(client.redirect_uris), "scope": list(client.scope),
        "accessTokenValiditySeconds": client.validity, "roleIds": list(client.roles),
        "roleDivisions": [], "state": "active", "selfUri": f"{PATH}/{client.id}",
    }


def listing_json(entities: list[dict]) -> dict:
    """An OAuthClientEntityListing: every client on one page, with its paging URIs."""
    size = max(len(entities), 1)
    page = f"{PATH}?pageSize={size}&pageNumber=1"
    return {"entities": entities, "pageSize": size, "pageNumber": 1, "total": len(entities),
            "pageCount": 1, "firstUri": page, "lastUri": page, "selfUri": page}


# ClientSpec field -> Genesys JSON key: the client rules themselves are in client_spec.py.
_SPEC_KEYS = {"name": "name", "description": "description",
              "grant_type": "authorizedGrantType", "redirect_uris": "registeredRedirectUri",
              "scope": "scope", "validity": "accessTokenValiditySeconds", "roles": "roles"}


def parse_client_body(body: Any) -> ClientSpec:
    """Validate a POST/PUT body; ApiError 400 names the first bad field.

    Roles come as `roleIds` (the SDK's OAuthClientRequest) or, as before, `roles`.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "bad.request", "The request body must be a JSON object.")
    if "roleIds" in body:
        if "roles" in body:
            raise ApiError(400, "bad.request", "roleIds: send the roles once, as roleIds.",
                           details=[{"fieldName": "roleIds", "errorCode": "invalid.value"}])
        body = {**body, "roles": body["roleIds"]}
    try:
        return client_spec({field: body[key] for field, key in _SPEC_KEYS.items() if key in body})
    except ClientSpecError as error:
        field = _SPEC_KEYS[error.field]
        raise ApiError(400, "bad.request", f"{field}: {error.problem}",
                       details=[{"fieldName": field, "errorCode": "invalid.value"}]) from None


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
    if not token.is_admin:
        permission = _PERMISSIONS.get(request.method, "oauth:client:view")
        raise ApiError(403, "missing.permissions",
                       "Unable to perform the requested action. You are missing the following "
                       f"permission(s): [{permission}]")


def _not_found(client_id: str) -> ApiError:
    return ApiError(404, "not.found", "The requested resource was not found.",
                    details=[{"fieldName": "clientId", "errorCode": "not.found", "entityId": client_id}])


@bp.get("")
def list_clients() -> Response:
    return jsonify(listing_json([client_json(c) for c in ext().store.list_clients()]))


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
    return no_content()
