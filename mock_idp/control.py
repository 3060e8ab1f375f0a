"""The control API under /mock/: test seams for test suites in any language.

Off unless MOCK_IDP_CONTROL_TOKEN is set; then it is also the bearer secret of every
/mock/ request (a wrong or missing one: 401). Without it nothing here is registered,
so every /mock/ path is a 404 and no request pays for recording or faults.

    POST   /mock/tokens      issue an access token: {client_id, user?, expires_in?, scope?}
    POST   /mock/users       add or replace a user (the seed's [[users]] shape)
    POST   /mock/clients     add or replace a client (the seed's [[clients]] shape)
    POST   /mock/next-login  script the next sign-in(s): {user} | {outcome: "deny" | "error=<code>"}
    POST   /mock/faults      fail the next N matching requests: status, delay, drop, rate_limit
    GET    /mock/requests    what the mock received (secrets redacted); DELETE clears
    GET    /mock/clock       the mock's time; POST {advance} or {set} moves it
    POST   /mock/reset       back to the seed: users, clients, no faults, scripts, requests
"""
from __future__ import annotations

import hmac
import io
import json
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Flask, Response, jsonify, request

from .api import user_json
from .clients_api import client_json
from .control_rules import (
    PREFIX,
    BadField,
    ScriptedLogin,
    fault_answer,
    parse_clock_move,
    parse_fault,
    parse_next_login,
    parse_token_order,
    redact_header,
    redact_json,
    redact_pairs,
)
from .control_state import ControlState
from .errors import PageError, SeedError
from .extension import ext
from .models import User
from .seed import parse_seed_client, parse_seed_user

log = logging.getLogger(__name__)

bp = Blueprint("control", __name__, url_prefix=PREFIX)

_GRANT_OF = {"CLIENT-CREDENTIALS": "client_credentials", "TOKEN": "implicit",
             "CODE": "authorization_code"}
_WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def install(app: Flask, state: ControlState) -> None:
    """Register /mock/ and put recording and faults in front of every other path."""
    app.register_blueprint(bp)
    app.wsgi_app = ControlMiddleware(state, app.wsgi_app)  # type: ignore[method-assign]
    log.warning("mock_idp: the control API is ON at %s/ (MOCK_IDP_CONTROL_TOKEN is set): anyone "
                "with the secret can issue tokens and change users, clients and the clock", PREFIX)


# -- the HTTP layer ---------------------------------------------------------------------
def _state() -> ControlState:
    state = ext().control
    assert state is not None  # the blueprint is registered only with a state
    return state


class _Unauthorized(Exception):
    pass


@bp.before_request
def _require_secret() -> None:
    secret = ext().settings.control_token or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not (secret and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), secret.encode())):
        raise _Unauthorized


@bp.errorhandler(_Unauthorized)
def _unauthorized(_: _Unauthorized) -> Response:
    response = jsonify({"message": "The control API needs 'Authorization: Bearer <MOCK_IDP_CONTROL_TOKEN>'."})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="mock-idp-control"'
    return response


@bp.errorhandler(BadField)
def _bad_field(error: BadField) -> Response:
    response = jsonify({"message": str(error), "field": error.field})
    response.status_code = 400
    return response


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # tokens in bodies
    return response


def _body(*, optional: bool = False) -> Any:
    data = request.get_data(cache=False)
    if optional and not data.strip():
        return {}
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise BadField("body", "is not valid JSON (send a JSON object, Content-Type: application/json)") from None


def _created(value: dict[str, Any]) -> Response:
    response = jsonify(value)
    response.status_code = 201
    return response


def _user(state: ControlState, ref: str | None, field: str = "user") -> User | None:
    if ref is None:
        return None
    user = state.find_user(ref)
    if user is None:
        raise BadField(field, f"no user with id or username {ref!r}")
    return user


def issue_token(state: ControlState, order_body: Any) -> dict[str, Any]:
    """The body of POST /mock/tokens (and the fixture's issue_token)."""
    order = parse_token_order(order_body)
    store = ext().store
    client = store.get_client(order.client_id)
    if client is None:
        raise BadField("client_id", f"no client {order.client_id!r}")
    user = _user(state, order.user)
    if user is not None and client.grant_type == "CLIENT-CREDENTIALS":
        raise BadField("user", "a CLIENT-CREDENTIALS client's tokens carry no user (Genesys's neither)")
    expires_in = client.validity if order.expires_in is None else order.expires_in
    scope = " ".join(client.scope) if order.scope is None else order.scope
    token = store.issue_token(client, user_id=user.id if user else None,
                              grant_type=_GRANT_OF[client.grant_type], scope=scope, expires_in=expires_in)
    body: dict[str, Any] = {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    if scope:
        body["scope"] = scope
    return body


@bp.post("/tokens")
def tokens() -> Response:
    return jsonify(issue_token(_state(), _body()))


def _seed_entry(parse: Callable[[dict[str, Any], str], Any], raw: Any, kind: str) -> Any:
    if not isinstance(raw, dict):
        raise BadField("body", f"must be a JSON object shaped like the seed's [[{kind}]] entries")
    try:
        return parse(raw, f"POST {PREFIX}/{kind}")
    except SeedError as error:
        text = str(error).removeprefix("seed file ")
        raise BadField(error.field or "body", text, message=text) from None


@bp.post("/users")
def users() -> Response:
    user = _seed_entry(parse_seed_user, _body(), "users")
    return _created(user_json(_state().put_user(user)))


@bp.post("/clients")
def clients() -> Response:
    client = _seed_entry(parse_seed_client, _body(), "clients")
    _state().put_client(client)
    created = ext().store.get_client(client.id)
    assert created is not None
    return _created(client_json(created))


@bp.post("/next-login")
def next_login() -> Response:
    login = parse_next_login(_body())
    state = _state()
    _user(state, login.user)  # a user that does not exist is refused now, not at sign-in
    return _created({"id": state.add_login(login), **login.to_json()})


@bp.get("/next-login")
def list_logins() -> Response:
    return jsonify({"entities": _state().logins()})


@bp.delete("/next-login")
def clear_logins() -> Response:
    _state().clear_logins()
    return Response(status=204)


@bp.post("/faults")
def faults() -> Response:
    fault = parse_fault(_body())
    return _created({"id": _state().add_fault(fault), **fault.to_json()})


@bp.get("/faults")
def list_faults() -> Response:
    return jsonify({"entities": _state().faults()})


@bp.delete("/faults")
def clear_faults() -> Response:
    _state().clear_faults()
    return Response(status=204)


@bp.get("/requests")
def received() -> Response:
    return jsonify({"entities": _state().requests()})


@bp.delete("/requests")
def clear_received() -> Response:
    _state().clear_requests()
    return Response(status=204)


def _clock_json(state: ControlState) -> dict[str, float]:
    return {"now": state.clock(), "offset": state.clock_offset()}


@bp.get("/clock")
def clock() -> Response:
    return jsonify(_clock_json(_state()))


@bp.post("/clock")
def move_clock() -> Response:
    state = _state()
    offset = state.clock_offset()
    state.set_clock_offset(parse_clock_move(_body(), state.clock() - offset, offset))
    return jsonify(_clock_json(state))


@bp.post("/reset")
def reset() -> Response:
    _body(optional=True)
    _state().reset()
    return Response(status=204)


# -- scripted sign-ins (called by authorize.py) -------------------------------------------
def scripted_login(grant: Any) -> Response | None:
    """The answer to a validated authorize request when the control API scripted it, else
    None (the login form is shown as usual)."""
    state = ext().control
    if state is None:
        return None
    login = state.take_login(grant.client.id)
    if login is None:
        return None
    return _scripted_answer(grant, login, state)


def _scripted_answer(grant: Any, login: ScriptedLogin, state: ControlState) -> Response:
    server = ext().server
    if login.outcome == "user":
        user = state.find_user(login.user or "")
        if user is None:
            raise PageError(f"The scripted sign-in names the user {login.user!r}, who is not in the "
                            "mock's store any more (POST /mock/users adds one).")
        return server.create_authorization_response(grant.request, grant_user=user, grant=grant)
    if login.outcome == "deny":
        return server.create_authorization_response(grant.request, grant_user=None, grant=grant)
    error = OAuth2Error(login.error_description or "The sign-in failed (scripted by the control API).",
                        error=login.error, state=grant.request.payload.state, redirect_uri=grant.redirect_uri,
                        redirect_fragment=grant.request.payload.response_type == "token")
    return server.handle_response(*error())


# -- recording and faults, in front of the app --------------------------------------------
def _socket(environ: dict[str, Any]) -> socket.socket | None:
    for key in ("gunicorn.socket", "werkzeug.socket"):
        sock = environ.get(key)
        if isinstance(sock, socket.socket):
            return sock
    return None


def _read_body(environ: dict[str, Any], limit: int = 1024 * 1024) -> bytes | None:
    """The request body, read and put back for the app; None when it has no declared length."""
    length = environ.get("CONTENT_LENGTH") or ""
    if not length.isdigit() or "HTTP_TRANSFER_ENCODING" in environ or int(length) > limit:
        return None
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _shown_body(environ: dict[str, Any], body: bytes | None) -> dict[str, Any]:
    if body is None or not body:
        return {}
    kind = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    try:
        if kind == "application/x-www-form-urlencoded":
            return {"form": redact_pairs(parse_qsl(body.decode(), keep_blank_values=True))}
        if kind == "application/json" or kind.endswith("+json"):
            return {"json": redact_json(json.loads(body))}
    except (UnicodeDecodeError, ValueError, RecursionError):
        pass
    return {"body_bytes": len(body)}  # anything else: its size, never its bytes


class ControlMiddleware:
    """Records every request outside /mock/ (secrets redacted) and applies injected faults."""

    def __init__(self, state: ControlState, app: _WSGI) -> None:
        self._state = state
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return self._app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "")
        body = _read_body(environ)
        entry: dict[str, Any] = {
            "time": self._state.clock(), "method": method, "path": path,
            "query": redact_pairs(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            "headers": {name[5:].replace("_", "-").title(): redact_header(name[5:].replace("_", "-"), value)
                        for name, value in environ.items() if name.startswith("HTTP_")},
            **_shown_body(environ, body)}
        if environ.get("CONTENT_TYPE"):
            entry["headers"]["Content-Type"] = environ["CONTENT_TYPE"]
        fault = self._state.take_fault(method, path)
        if fault is not None:
            entry["fault"] = fault.kind
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            elif fault.kind == "drop":
                entry["status"] = None
                self._state.record(entry)
                return self._drop(environ, start_response)
            else:
                status, headers, data = fault_answer(fault, path, str(uuid.uuid4()))
                entry["status"] = status
                self._state.record(entry)
                start_response(f"{status} {_REASONS.get(status, 'Error')}",
                               [*headers, ("Content-Length", str(len(data)))])
                return [data]
        seen: dict[str, int] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        result = self._app(environ, start)
        entry["status"] = seen.get("status")
        self._state.record(entry)
        return result

    @staticmethod
    def _drop(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Close the connection without an answer: the client sees it end, no status line."""
        sock = _socket(environ)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # The server's own attempt to answer now fails on the closed socket (EPIPE): both
        # werkzeug and gunicorn take that as a client that went away, quietly.
        start_response("500 Dropped", [("Content-Length", "0")])
        return []


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
