"""Library exceptions and HTTP errors turned into pages, in this one place.

Messages come from ``service.errors`` and never contain secrets (R25); the status
code tells scripts (and the conformance suite) what happened.
"""
from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from service import errors as lib

# Most specific first: the first matching class decides status and title.
_MAPPING: tuple[tuple[type[lib.GcloginError], int, str], ...] = (
    (lib.ProfileNotFoundError, 404, "No such profile"),
    (lib.ConfigParseError, 500, "config.toml cannot be read"),
    (lib.ConfigError, 500, "Configuration problem"),
    (lib.InvalidValueError, 400, "Invalid value"),
    (lib.StateError, 400, "Login refused"),
    (lib.RedirectError, 400, "Login refused"),
    (lib.OAuthError, 400, "Login failed"),
    (lib.LoginRequiredError, 401, "Log in first"),
    (lib.NetworkError, 502, "The authorization server is not reachable"),
    (lib.AuthenticationError, 401, "Not logged in"),
    (lib.ApiError, 502, "The API answered with an error"),
)


def status_and_title(exc: lib.GcloginError) -> tuple[int, str]:
    for cls, status, title in _MAPPING:
        if isinstance(exc, cls):
            return status, title
    return 500, "Something went wrong"


def render_error(exc: lib.GcloginError) -> tuple[str, int]:
    """The error page for a library exception, with its status."""
    status, title = status_and_title(exc)
    return render_template("error.html", title=title, message=str(exc)), status


def _http_error(exc: HTTPException):
    return render_template("error.html", title=f"{exc.code} {exc.name}",
                           message=exc.description), exc.code or 500


def init_app(app: Flask) -> None:
    app.register_error_handler(lib.GcloginError, render_error)
    app.register_error_handler(HTTPException, _http_error)
