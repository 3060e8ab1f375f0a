"""The mock's exceptions, and the one place they become HTTP responses.

    MockIdpError
    ├── ConfigError      a bad setting (names the variable); raised by create_app
    ├── SeedError        a bad seed file (names file, entry and field); raised by create_app
    ├── StoreError       a store file this code cannot use (names it); raised by create_app
    ├── ApiError         a Genesys-style JSON error on /api/v2/...
    └── PageError        an HTML error page on /oauth/authorize: never a redirect (R4)

Token-endpoint errors are Authlib's OAuth2Error, rendered by Authlib as RFC 6749
§5.2 JSON. Anything else is a bug: a 500 without internals, logged server-side.
"""
from __future__ import annotations

import json
import logging
import uuid

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .pages import html_page

log = logging.getLogger(__name__)

GENERIC_500 = "The server hit an unexpected error. It has been logged."
# Genesys's message for these statuses (their exact codes where known).
_GENESYS_HTTP = {
    400: ("bad.request", "The request could not be understood by the server due to malformed syntax."),
    404: ("not.found", "The requested resource was not found."),
    405: ("method.not.allowed", "The requested method is not allowed for this resource."),
    413: ("request.entity.too.large", "The request body is too large."),
    415: ("unsupported.media.type", "The request body must be JSON (Content-Type: application/json)."),
}


class MockIdpError(Exception):
    """Base of every error the mock raises on purpose."""


class ConfigError(MockIdpError):
    """A setting is invalid; the message names it."""


class SeedError(MockIdpError):
    """The seed file is invalid; the message names the file, entry and field."""

    field: str | None = None  # the entry's field at fault, when one is


class StoreError(MockIdpError):
    """The store cannot be used (e.g. a newer schema version); the message names the file."""


class StoreUnavailable(MockIdpError):
    """A networked store (Redis) does not answer: this request gets a 503, the next may not."""


class ApiError(MockIdpError):
    """A Genesys API error: `{message, code, status, contextId, details, errors}`."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


class PageError(MockIdpError):
    """An authorize request we must not redirect for: shown as a 400 HTML page."""

    def __init__(self, message: str, status: int = 400, *, ports: tuple[int, ...] = (),
                 any_port: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.ports = ports  # an unregistered redirect URI: the client's registered loopback ports
        self.any_port = any_port  # ... and whether http://localhost on any port is accepted


def context_id() -> str:
    """This request's correlation id (Genesys echoes it as ININ-Correlation-Id)."""
    if "context_id" not in g:
        g.context_id = str(uuid.uuid4())
    return g.context_id


def api_headers(response: Response) -> Response:
    """What every /api/v2 response carries: the view's, and the errors' (404s included)."""
    response.headers["ININ-Correlation-Id"] = context_id()
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def no_content() -> Response:
    """204 with no body and so no Content-Type (Flask would say text/html)."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def api_error_response(error: ApiError) -> Response:
    body = {"message": error.message, "code": error.code, "status": error.status,
            "contextId": context_id(), "details": error.details, "errors": []}
    response = jsonify(body)
    response.status_code = error.status
    return api_headers(response)


#: Flask's jsonify output (compact, sorted keys, a final newline), made without an app
#: context: the token fast path (token_wsgi.py) answers outside one.
_JSONIFY = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def oauth_error_response(status: int, error: str, description: str) -> Response:
    body = _JSONIFY.encode({"error": error, "error_description": description}) + "\n"
    return Response(body, status=status, mimetype="application/json",
                    headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def page_error_response(message: str, status: int, ports: tuple[int, ...] = (),
                        any_port: bool = False) -> Response:
    return html_page("error.html", status=status, message=message, ports=ports, any_port=any_port)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    path = request.path
    if path.startswith("/api/"):
        code, message = _GENESYS_HTTP.get(status, ("bad.request", error.description or ""))
        return api_error_response(ApiError(status, code, message))
    if path == "/oauth/token":
        return oauth_error_response(status, "invalid_request", _plain(error))
    if path.startswith("/oauth/"):
        return page_error_response(_plain(error), status)
    response = jsonify({"error": error.name, "message": _plain(error)})
    response.status_code = status
    return response


def _plain(error: HTTPException) -> str:
    return f"{error.name}: {error.description}" if error.description else error.name


def _unexpected(error: Exception) -> Response:
    # The traceback goes to the server log only; it holds code lines, not request values.
    log.exception("unhandled error on %s %s", request.method, request.path)
    if request.path.startswith("/api/"):
        return api_error_response(ApiError(500, "internal.server.error", GENERIC_500))
    if request.path == "/oauth/token":
        return oauth_error_response(500, "server_error", GENERIC_500)
    return page_error_response(GENERIC_500, 500)


UNAVAILABLE = "The service is temporarily unavailable. Try again shortly."


def store_unavailable_response(error: StoreUnavailable) -> Response:
    """503 in the shape of the path's API; the cause goes to the log, not the client."""
    log.warning("%s %s: %s (%s)", request.method, request.path, error, type(error.__cause__).__name__)
    if request.path.startswith("/api/"):
        response = api_error_response(ApiError(503, "service.unavailable", UNAVAILABLE))
    elif request.path == "/oauth/token":
        response = oauth_error_response(503, "temporarily_unavailable", UNAVAILABLE)
    elif request.path.startswith("/oauth/"):
        response = page_error_response(UNAVAILABLE, 503)
    else:
        response = jsonify({"error": "Service Unavailable", "message": UNAVAILABLE})
        response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(StoreUnavailable, store_unavailable_response)
    app.register_error_handler(ApiError, api_error_response)
    app.register_error_handler(PageError, lambda e: page_error_response(e.message, e.status, e.ports, e.any_port))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
