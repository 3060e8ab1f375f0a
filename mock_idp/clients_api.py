"""Admin API for OAuth clients, shaped like Genesys's /api/v2/oauth/clients.

Usable only with a token whose client has the admin role. A client's secret is
returned once, by POST. Changes are in the shared store, so every worker sees them.

Every client made here has a secret, as in Genesys, so a CODE client is confidential.
A public PKCE client (no secret) is the mock's extension: `{"mockIdp": {"publicClient":
true}}` in the POST body, for CODE only.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, json, jsonify, request

from .api import EXTENSION_KEY, require_token
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


PUBLIC_CLIENT = "publicClient"
_PUBLIC_FIELD = f"{EXTENSION_KEY}.{PUBLIC_CLIENT}"


def client_json(client: Client) -> dict:
    """An OAuthClient as the SDK models it; the mock's roles are its roleIds, and a
    public CODE client says so under EXTENSION_KEY."""
    extension = {EXTENSION_KEY: {PUBLIC_CLIENT: True}} \
        if client.grant_type == "CODE" and not client.is_confidential else {}
    return {**extension,
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
        raise _bad_field(_SPEC_KEYS[error.field], error.problem) from None


def public_client_requested(body: dict, grant_type: str) -> bool:
    """Whether the body asks for a public client (no secret): the mock's extension.

    ApiError 400 names the field: the extension must be an object with only
    publicClient, a boolean, and true only for a CODE client (a public PKCE client;
    CLIENT-CREDENTIALS needs its secret, and TOKEN clients never authenticate anyway).
    """
    if EXTENSION_KEY not in body:
        return False
    extension = body[EXTENSION_KEY]
    if not isinstance(extension, dict):
        raise _bad_field(EXTENSION_KEY, f"must be an object, such as {{\"{PUBLIC_CLIENT}\": true}}")
    unknown = sorted(str(key) for key in extension if key != PUBLIC_CLIENT)
    if unknown:
        raise _bad_field(f"{EXTENSION_KEY}.{unknown[0][:40]}",
                         f"is not a mock extension; only {PUBLIC_CLIENT} is")
    public = extension.get(PUBLIC_CLIENT, False)
    if not isinstance(public, bool):
        raise _bad_field(_PUBLIC_FIELD, "must be true or false")
    if public and grant_type != "CODE":
        raise _bad_field(_PUBLIC_FIELD, f"only a CODE client may be public (no secret, PKCE); "
                                        f"this one is {grant_type}")
    return public


def _bad_field(field: str, problem: str) -> ApiError:
    return ApiError(400, "bad.request", f"{field}: {problem}",
                    details=[{"fieldName": field, "errorCode": "invalid.value"}])


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
    body = _json_body()
    spec = parse_client_body(body)
    client, secret = ext().store.create_client(spec, public=public_client_requested(body, spec.grant_type))
    made = client_json(client)
    return jsonify(made if secret is None else {**made, "secret": secret})


@bp.get("/<client_id>")
def get_client(client_id: str) -> Response:
    client = ext().store.get_client(client_id)
    if client is None:
        raise _not_found(client_id)
    return jsonify(client_json(client))


@bp.put("/<client_id>")
def update_client(client_id: str) -> Response:
    body = _json_body()
    spec = parse_client_body(body)
    current = ext().store.get_client(client_id)
    if current is None:
        raise _not_found(client_id)
    _check_update(current, spec, body)
    client = ext().store.update_client(client_id, spec)
    if client is None:
        raise _not_found(client_id)
    return jsonify(client_json(client))


def _check_update(current: Client, spec: ClientSpec, body: dict) -> None:
    """An update keeps the secret or its absence: a client made public stays without
    one, so it cannot become CLIENT-CREDENTIALS, and the extension cannot change it."""
    has_secret = bool(current.secret_hash)
    public = public_client_requested(body, spec.grant_type)
    if PUBLIC_CLIENT in body.get(EXTENSION_KEY, {}) and public == has_secret:
        raise _bad_field(_PUBLIC_FIELD, "cannot change: the client keeps the secret it was "
                                        "created with (or its absence)")
    if not has_secret and spec.grant_type == "CLIENT-CREDENTIALS":
        raise _bad_field("authorizedGrantType", "a client without a secret cannot be "
                                                "CLIENT-CREDENTIALS")


@bp.delete("/<client_id>")
def delete_client(client_id: str) -> Response:
    if not ext().store.delete_client(client_id):
        raise _not_found(client_id)
    return no_content()
