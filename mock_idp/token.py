"""POST /oauth/token: Authlib's token endpoint behind checks for malformed requests.

Authlib handles the grants; these checks turn what it would mishandle (repeated
parameters, a broken Basic header, two authentication methods, credentials in
the URL) into RFC 6749 §5.2 errors instead of silent acceptance or a 500.
"""
from __future__ import annotations

from flask import Blueprint, Request, Response, request

from .client_auth import basic_credentials
from .errors import oauth_error_response
from .extension import ext
from .oauth2 import MockAuthorizationServer

bp = Blueprint("token", __name__)

PATH = "/oauth/token"
FORM = "application/x-www-form-urlencoded"


def _precheck(request: Request) -> Response | None:
    if request.query_string and request.args:  # no query: skip parsing one
        return oauth_error_response(400, "invalid_request", "Send the token request parameters "
                                    "in the form body, never in the URL (RFC 6749 §2.3, §3.2).")
    if request.mimetype != FORM:
        return oauth_error_response(400, "invalid_request",
                                    f"The request body must be {FORM} (RFC 6749 §3.2).")
    form = request.form
    for name, values in form.lists():
        if len(values) > 1:
            return oauth_error_response(400, "invalid_request",
                                        f"The parameter '{name}' is repeated (RFC 6749 §3.2).")
    header = request.headers.get("Authorization")
    if header is not None:
        try:
            client_ids = {client_id for client_id, _ in basic_credentials(header)}
        except ValueError as problem:
            response = oauth_error_response(401, "invalid_client", str(problem))
            response.headers["WWW-Authenticate"] = 'Basic realm="mock-idp"'
            return response
        if "client_secret" in form:
            return oauth_error_response(400, "invalid_request", "Use one client authentication "
                                        "method: HTTP Basic or client_secret in the body (RFC 6749 §2.3).")
        # `in` first: a MultiDict .get that misses raises and catches an exception inside.
        if "client_id" in form and form["client_id"] not in client_ids:
            return oauth_error_response(400, "invalid_request", "The 'client_id' in the body is "
                                        "not the client of the Basic credentials (RFC 6749 §3.2.1).")
    if not form.get("grant_type"):
        return oauth_error_response(400, "invalid_request", "Missing 'grant_type'.")
    return None


def token_response(request: Request, server: MockAuthorizationServer) -> Response:
    """The answer to a token request, on either path (this view, or token_wsgi.py).

    Every answer carries Cache-Control: no-store and Pragma: no-cache (R12) without
    an after_request hook: Authlib's answers and oauth_error_response (the checks here
    and errors.py's handlers for this path) all set them. (Flask's empty automatic
    OPTIONS answer has neither; OPTIONS answers are not cacheable, RFC 9110 §9.3.7.)
    """
    return _precheck(request) or server.create_token_response(request)


@bp.post(PATH)
def token() -> Response:
    """Token requests the fast path (token_wsgi.py) leaves to Flask, or every one when
    MOCK_IDP_TOKEN_FAST_PATH=0."""
    # The request object itself, not the context-local proxy: it is read many times.
    return token_response(request._get_current_object(), ext().server)  # type: ignore[attr-defined]
