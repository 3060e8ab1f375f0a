"""Library exceptions and HTTP errors turned into pages, in this one place.

Messages come from ``service.errors`` and never contain secrets (R25); the status
code tells scripts (and the conformance suite) what happened. One exception: a token
endpoint refusing a client-credentials login. Its ``error_description`` is the server's
internal text (Authlib's "The client cannot authenticate with methods: [...]"), so the
page says what gc says, "The credentials provided are not valid.", plus the RFC 6749
error code only (``CredentialsRejected``).
"""
from __future__ import annotations

import re

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from service import errors as lib

#: RFC 6749 §5.2: error codes are printable ASCII without '"' and '\'
_ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5B\x5D-\x7E]{1,64}")


class CredentialsRejected(lib.OAuthError):
    """The token endpoint refused a client-credentials login (wrong ID or secret, ...)."""

    def __init__(self, error: str) -> None:
        code = error if _ERROR_CODE.fullmatch(error or "") else "invalid_response"
        lib.GcloginError.__init__(self, f"The credentials provided are not valid. (OAuth error: {code})")
        self.error, self.description, self.uri = code, None, None


def unreachable_message(exc: lib.NetworkError) -> str:
    """Generic on purpose: the OS error (refused, timed out, no route) would map ports."""
    return "The authorization server cannot be reached. Nothing was saved; try again later."

# Most specific first: the first matching class decides status and title.
_MAPPING: tuple[tuple[type[lib.GcloginError], int, str], ...] = (
    (lib.ProfileNotFoundError, 404, "No such profile"),
    (lib.ConfigParseError, 500, "config.toml cannot be read"),
    (lib.ConfigError, 500, "Configuration problem"),
    (lib.InvalidValueError, 400, "Invalid value"),
    (lib.StateError, 400, "Login refused"),
    (lib.RedirectError, 400, "Login refused"),
    (lib.OAuthError, 400, "Login failed"),
    (lib.AuthorizeRefusedError, 400, "The authorization server refused this login"),
    (lib.LoginRequiredError, 401, "Log in first"),
    (lib.NetworkError, 502, "The authorization server is not reachable"),
    (lib.AuthenticationError, 401, "Not logged in"),
    (lib.ApiError, 502, "The API answered with an error"),
)


def form_message(exc: lib.GcloginError) -> tuple[int, str]:
    """Status and one-line message for a login that failed from the new-profile form."""
    if isinstance(exc, lib.NetworkError):
        return 502, unreachable_message(exc)
    if isinstance(exc, CredentialsRejected):
        return 400, str(exc)
    return status_and_title(exc)[0], str(exc)


def status_and_title(exc: lib.GcloginError) -> tuple[int, str]:
    for cls, status, title in _MAPPING:
        if isinstance(exc, cls):
            return status, title
    return 500, "Something went wrong"


def render_error(exc: lib.GcloginError) -> tuple[str, int]:
    """The error page for a library exception, with its status."""
    status, title = status_and_title(exc)
    message = unreachable_message(exc) if isinstance(exc, lib.NetworkError) else str(exc)
    return render_template("error.html", title=title, message=message), status


def _http_error(exc: HTTPException):
    return render_template("error.html", title=f"{exc.code} {exc.name}",
                           message=exc.description), exc.code or 500


def init_app(app: Flask) -> None:
    app.register_error_handler(lib.GcloginError, render_error)
    app.register_error_handler(HTTPException, _http_error)
