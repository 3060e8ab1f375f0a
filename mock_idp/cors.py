"""CORS for the endpoints a browser app calls from its own origin (the implicit and PKCE
grants' reason to exist): /oauth/token and /api/v2/* (DELETE /api/v2/tokens/me is the
revocation). The sign-in pages are navigations, never CORS, and stay unframable.

These endpoints take bearer tokens or client credentials, never cookies, so any origin
may call them by default and Allow-Credentials is never sent. MOCK_IDP_CORS_ORIGINS
narrows the origins. A WSGI middleware, outermost: the token endpoint mostly answers
outside Flask (token_wsgi.py), and both paths must carry the same headers.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

TOKEN_PATH = "/oauth/token"
API_PREFIX = "/api/v2/"
TOKEN_METHODS = ("POST",)
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: What Genesys's SDKs send (JS: Authorization, Content-Type, Accept, Genesys-App).
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Accept", "Genesys-App",
                   "ININ-Client-Path", "X-Requested-With")
EXPOSED_HEADERS = ("ININ-Correlation-Id",)
MAX_AGE = "600"


def methods_for(path: str) -> tuple[str, ...] | None:
    """The methods a cross-origin page may use on `path`; None: not a CORS endpoint."""
    if path == TOKEN_PATH:
        return TOKEN_METHODS
    if path.startswith(API_PREFIX):
        return API_METHODS
    return None


def allow_origin(origin: str, allowed: frozenset[str] | None) -> str | None:
    """The Access-Control-Allow-Origin value for `origin`; None: not allowed."""
    if allowed is None:
        return "*"
    return origin if origin in allowed else None


def preflight_problem(origin: str, method: str, path: str, allowed: frozenset[str] | None) -> str | None:
    if allow_origin(origin, allowed) is None:
        return (f"The origin {origin} may not call {path} from a browser: it is not in "
                "MOCK_IDP_CORS_ORIGINS.")
    methods = methods_for(path) or ()
    if method.upper() not in methods:
        return f"{path} does not accept {method} from a browser; it accepts {', '.join(methods)}."
    return None


def _error_body(path: str, message: str) -> bytes:
    if path == TOKEN_PATH:  # RFC 6749 §5.2's shape, as every token-endpoint answer
        body: dict[str, Any] = {"error": "invalid_request", "error_description": message}
    else:  # Genesys's error body, as every /api/v2 answer
        body = {"message": message, "code": "cors.origin.not.allowed", "status": 403,
                "details": [], "errors": []}
    return json.dumps(body).encode()


class Cors:
    """WSGI middleware: answers preflights, adds the CORS headers to actual answers."""

    def __init__(self, wsgi_app: WsgiApp, allowed: frozenset[str] | None) -> None:
        self._app = wsgi_app
        self._allowed = allowed

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        path = environ.get("PATH_INFO", "")
        if origin is None or methods_for(path) is None:
            return self._app(environ, start_response)
        wanted = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if environ.get("REQUEST_METHOD") == "OPTIONS" and wanted:
            return self._preflight(origin, wanted, path, start_response)
        value = allow_origin(origin, self._allowed)
        if value is None:  # no header: the browser keeps the answer from the page
            return self._app(environ, start_response)
        extra = self._origin_headers(value)
        extra.append(("Access-Control-Expose-Headers", ", ".join(EXPOSED_HEADERS)))

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *extra], exc_info)
        return self._app(environ, start)

    def _origin_headers(self, value: str) -> list[tuple[str, str]]:
        # An echoed origin varies by request: caches must key on it (Fetch §3.2.5).
        return [("Access-Control-Allow-Origin", value)] + ([] if value == "*" else [("Vary", "Origin")])

    def _preflight(self, origin: str, method: str, path: str,
                   start_response: Callable[..., Any]) -> Iterable[bytes]:
        problem = preflight_problem(origin, method, path, self._allowed)
        if problem is not None:
            body = _error_body(path, problem)
            start_response("403 Forbidden", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(body))),
                                             ("Cache-Control", "no-store"), ("Vary", "Origin")])
            return [body]
        value = allow_origin(origin, self._allowed)
        assert value is not None  # preflight_problem checked it
        start_response("204 No Content", [
            *self._origin_headers(value),
            ("Access-Control-Allow-Methods", ", ".join(methods_for(path) or ())),
            ("Access-Control-Allow-Headers", ", ".join(ALLOWED_HEADERS)),
            ("Access-Control-Max-Age", MAX_AGE)])
        return []
