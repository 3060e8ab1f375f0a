"""GET/POST /oauth/authorize: validate the request, show the login form, redirect back.

The authorize request waits in the store (shared by all workers) under a random
id; the form carries that id and a CSRF token, and a browser-binding cookie must
match, so a forged form post cannot log a victim in (login CSRF).
"""
from __future__ import annotations

import hmac
import re
import secrets

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from .errors import PageError
from .extension import ext
from .models import digest
from .oauth2 import ReplayedRequest
from .pages import html_page

bp = Blueprint("authorize", __name__)

BINDING_COOKIE = "mock_idp_login"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{20,64}")
_SINGLE = ("response_type", "client_id", "redirect_uri", "scope", "state",
           "code_challenge", "code_challenge_method")
# These reach Authlib's error descriptions, which must be RFC 6749 §4.1.2.1 ASCII.
_ASCII_ONLY = ("response_type", "client_id", "redirect_uri")
_ERROR_CHARS = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
_FORM_FIELDS = ("request_id", "csrf_token", "username", "password")


def _check_params(args: MultiDict) -> None:
    for name in _SINGLE:
        if len(args.getlist(name)) > 1:
            raise PageError(f"The parameter '{name}' is repeated; send it once (RFC 6749 §3.1).")
    for name in _ASCII_ONLY:
        if not _ERROR_CHARS.fullmatch(args.get(name, "")):
            raise PageError(f"The parameter '{name}' contains characters that are not allowed.")


def _oauth_error(error: OAuth2Error) -> Response:
    """Redirect per RFC 6749 §4.1.2.1/§4.2.2.1 when the redirect URI is trusted, else a page."""
    if error.redirect_uri:
        return ext().server.handle_response(*error())
    raise PageError(error.get_error_description() or error.error or "invalid request")


def _login_page(grant, request_id: str, csrf: str, error: str | None = None,
                username: str = "") -> Response:
    return html_page("login.html", form_targets=[grant.redirect_uri],
                     has_form=True, client_name=grant.client.name, request_id=request_id,
                     csrf_token=csrf, error=error, username=username)


@bp.get("/oauth/authorize")
def authorize() -> Response:
    _check_params(request.args)
    mock = ext()
    try:
        grant = mock.server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _oauth_error(error)
    binding = request.cookies.get(BINDING_COOKIE, "")
    if not _COOKIE_VALUE.fullmatch(binding):
        binding = secrets.token_urlsafe(24)
    request_id, csrf = mock.store.save_pending(list(request.args.items(multi=True)), binding)
    response = _login_page(grant, request_id, csrf)
    response.set_cookie(BINDING_COOKIE, binding, path="/oauth/authorize", httponly=True,
                        samesite="Strict", secure=request.is_secure)
    return response


@bp.post("/oauth/authorize")
def login() -> Response:
    form = request.form
    for name in _FORM_FIELDS:
        if len(form.getlist(name)) > 1:
            raise PageError(f"The form field '{name}' is repeated.")
    mock = ext()
    request_id = form.get("request_id", "")
    pending = mock.store.get_pending(request_id) if request_id else None
    if pending is None:
        raise PageError("This sign-in request has expired or was already used. "
                        "Start the login again from your application.")
    binding = request.cookies.get(BINDING_COOKIE, "")
    csrf = form.get("csrf_token", "")
    if not (binding and csrf and hmac.compare_digest(digest(binding), pending.binding_hash)
            and hmac.compare_digest(digest(csrf), pending.csrf_hash)):
        raise PageError("The sign-in form could not be verified (CSRF token or cookie missing "
                        "or wrong). Start the login again from your application.", status=403)
    oauth_request = ReplayedRequest(pending.params, request.headers)
    try:
        # Validate again: the client may have changed since the form was shown.
        grant = mock.server.get_consent_grant(oauth_request, end_user=None)
    except OAuth2Error as error:
        mock.store.take_pending(request_id)
        return _oauth_error(error)
    username = form.get("username", "")
    user = mock.store.authenticate_user(username, form.get("password", ""))
    if user is None:
        return _login_page(grant, request_id, csrf, error="Wrong username or password.",
                           username=username)
    if not mock.store.take_pending(request_id):
        raise PageError("This sign-in request was already used. "
                        "Start the login again from your application.")
    return mock.server.create_authorization_response(oauth_request, grant_user=user, grant=grant)


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
