"""POST /oauth/token ahead of Flask's request cycle, kept because it buys well over the
15 % of token throughput it must (docs/performance.md; off: MOCK_IDP_TOKEN_FAST_PATH=0).

A plain token request (POST to the exact path, no query, `application/x-www-form-urlencoded`,
a declared length within the limit and no Transfer-Encoding, a UTF-8 body) is answered
here by token.token_response, as the Flask view would answer it. Anything else goes to
Flask, with whatever body was read handed back; an exception goes to Flask's error
handlers, so it is answered and logged as on any route.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  registers the "werkzeug.url_quote" codec error handler
from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict

from .oauth2 import MockAuthorizationServer
from .token import FORM, PATH, token_response

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def plain_body_length(environ: dict[str, Any], limit: int) -> int | None:
    """The body length of a token request this path answers; None leaves it to Flask.

    Flask also gets a query string (refused before the body is read, so a client that
    sends none is answered at once) and any Transfer-Encoding (a chunked body's length
    is not Content-Length, whatever that says; werkzeug reads it to its end).
    """
    if (environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != PATH
            or environ.get("CONTENT_TYPE") != FORM or environ.get("QUERY_STRING")
            or "HTTP_TRANSFER_ENCODING" in environ):
        return None
    length = environ.get("CONTENT_LENGTH")
    if not isinstance(length, str) or not (length.isascii() and length.isdigit()):
        return None
    size = int(length)
    return size if size <= limit else None


def parse_form(body: bytes) -> list[tuple[str, str]] | None:
    """The fields of a urlencoded body, by werkzeug's own call; None if the body is not
    UTF-8 (werkzeug then gives an empty form, and Flask's path says what is missing)."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    return parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")


class TokenFastPath:
    """WSGI middleware (`app.wsgi_app = TokenFastPath(...)`) in front of the Flask app."""

    def __init__(self, app: Flask, server: MockAuthorizationServer, flask_wsgi: WsgiApp) -> None:
        self._app = app
        self._server = server
        self._flask_wsgi = flask_wsgi

    def _limit(self) -> int:
        """Werkzeug's limits as configured now; with none at all, Flask takes every body."""
        config = self._app.config
        limits = (config.get("MAX_CONTENT_LENGTH"), config.get("MAX_FORM_MEMORY_SIZE"))
        return min((limit for limit in limits if limit is not None), default=0)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = plain_body_length(environ, self._limit())
        if length is None:
            return self._flask_wsgi(environ, start_response)
        body = environ["wsgi.input"].read(length)
        fields = parse_form(body) if len(body) == length else None
        if fields is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return self._flask_wsgi(environ, start_response)
        # No app context either: nothing on this path needs one. Nor the environ's link
        # back to the request (populate_request): a reference cycle per token request
        # feeds the garbage collector, whose passes stall every connection of a worker.
        request = self._app.request_class(environ, populate_request=False)
        # What werkzeug's own form loading leaves in the instance dict.
        request.__dict__.update(form=ImmutableMultiDict(fields), files=ImmutableMultiDict(),
                                stream=io.BytesIO())
        try:
            response = token_response(request, self._server)
        except Exception as error:  # noqa: BLE001  answered as Flask answers any route
            return self._flask_error(environ, error)(environ, start_response)
        # Sent as built: the body is bytes and its Content-Length set, so werkzeug's
        # response call would add nothing (tests compare every header with Flask's path).
        start_response(response.status, list(response.headers.items()))
        return [response.get_data()]

    def _flask_error(self, environ: dict[str, Any], error: Exception) -> Any:
        app = self._app
        with app.request_context(environ):
            return app.finalize_request(app.handle_user_exception(error), from_error_handler=True)
