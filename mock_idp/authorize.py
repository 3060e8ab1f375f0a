"""GET/POST /oauth/authorize: validate the request, show the login form, redirect back.

The authorize request waits in the store (shared by all workers) under a random
id; the form carries that id and a CSRF token, and a browser-binding cookie must
match, so a forged form post cannot log a victim in (login CSRF) nor cancel the
victim's login. "Cancel" is a separate small form posting to its own path, so the
login form keeps a single submit button (#login).

A GET with ``Sec-Purpose: prefetch`` (gclogin's check before it opens the browser) is
validated like any other and gets the same error page, but a valid one changes nothing:
no pending login is stored and no scripted sign-in is used up; it gets a 204.
The error page for an unregistered redirect URI lists the client's registered loopback
ports (and says whether any port is accepted): Genesys does not, but they are not
secret, and they are shown only for a client ID that exists.
"""
from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError
from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from service import accepts_any_port, registered_loopback_ports

from .control import scripted_login
from .errors import PageError
from .extension import ext
from .models import digest
from .oauth2 import ReplayedRequest
from .pages import html_page
from .store_api import Pending

bp = Blueprint("authorize", __name__)

BINDING_COOKIE = "mock_idp_login"
AUTHORIZE_PATH = "/oauth/authorize"
# Far above any real authorize request, and below what a front proxy accepts
# (gunicorn's request line limit is 4094); the werkzeug server has no limit of its own.
MAX_QUERY_BYTES = 4096
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{20,64}")
_SINGLE = ("response_type", "client_id", "redirect_uri", "scope", "state",
           "code_challenge", "code_challenge_method")
# These reach Authlib's error descriptions, which must be RFC 6749 §4.1.2.1 ASCII.
# (Registered redirect URIs never contain the excluded '"' and '\': RFC 3986 forbids them.)
_ERROR_TEXT = ("response_type", "redirect_uri")
_ERROR_CHARS = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
_VSCHARS = re.compile(r"[\x20-\x7e]*")  # client_id syntax, RFC 6749 Appendix A.1
_FORM_FIELDS = ("request_id", "csrf_token", "username", "password")


def check_single(args: MultiDict, names: tuple[str, ...]) -> None:
    """Parameters sent at most once (RFC 6749 §3.1), on a page that never redirects for it."""
    if len(request.query_string) > MAX_QUERY_BYTES:
        raise PageError(f"The request is longer than {MAX_QUERY_BYTES} bytes.", status=414)
    for name in names:
        if len(args.getlist(name)) > 1:
            raise PageError(f"The parameter '{name}' is repeated; send it once (RFC 6749 §3.1).")


def _check_params(args: MultiDict) -> None:
    check_single(args, _SINGLE)
    for name in _ERROR_TEXT:
        if not _ERROR_CHARS.fullmatch(args.get(name, "")):
            raise PageError(f"The parameter '{name}' contains characters that are not allowed.")
    if not _VSCHARS.fullmatch(args.get("client_id", "")):
        raise PageError("The parameter 'client_id' contains characters that are not allowed "
                        "(printable ASCII only, RFC 6749 Appendix A.1).")


def _oauth_error(error: OAuth2Error, client_id: str | None) -> Response:
    """Redirect per RFC 6749 §4.1.2.1/§4.2.2.1 when the redirect URI is trusted, else a page."""
    if error.redirect_uri:
        return ext().server.handle_response(*error())
    if isinstance(error, InvalidClientError):
        # Authlib's wording ("cannot authenticate with methods") fits the token endpoint.
        client = ext().store.get_client(client_id) if client_id else None
        if not client_id:
            raise PageError("The parameter 'client_id' is missing.")
        if client is None:
            raise PageError("Unknown client: the 'client_id' is not a registered OAuth client.")
        raise PageError(f"This client's grant type is {client.grant_type}: it cannot sign users "
                        "in here (TOKEN and CODE clients can).")
    message = error.get_error_description() or error.error or "invalid request"
    requested = request.args.get("redirect_uri")
    client = ext().store.get_client(client_id) if client_id and requested else None
    if client is not None and requested and not client.check_redirect_uri(requested):
        raise PageError(message, ports=registered_loopback_ports(client.redirect_uris),
                        any_port=accepts_any_port(client.redirect_uris, client.loopback_any_port))
    raise PageError(message)


def is_prefetch() -> bool:
    """A request that must change nothing (Fetch's ``Sec-Purpose: prefetch``)."""
    return request.headers.get("Sec-Purpose", "").split(";")[0].strip().lower() == "prefetch"


def _login_page(grant: Any, request_id: str, csrf: str, error: str | None = None,
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
        return _oauth_error(error, request.args.get("client_id"))
    if is_prefetch():
        return Response(status=204)
    scripted = scripted_login(grant)  # the control API's next_login, if one is set: no form
    if scripted is not None:
        return scripted
    binding = request.cookies.get(BINDING_COOKIE, "")
    if not _COOKIE_VALUE.fullmatch(binding):
        binding = secrets.token_urlsafe(24)
    request_id, csrf = mock.store.save_pending(list(request.args.items(multi=True)), binding)
    response = _login_page(grant, request_id, csrf)
    response.set_cookie(BINDING_COOKIE, binding, path=AUTHORIZE_PATH, httponly=True,
                        samesite="Strict", secure=request.is_secure)
    return response


@dataclass(frozen=True)
class _Posted:
    """A verified form post for a pending authorize request, revalidated."""
    request_id: str
    csrf: str
    oauth_request: ReplayedRequest
    grant: Any


def _verified_post() -> _Posted | Response:
    """Check the form's request id, CSRF token and cookie, then revalidate the request.

    Returns the error redirect instead when the request is no longer valid (e.g. the
    client changed since the form was shown).
    """
    form = request.form
    for name in _FORM_FIELDS:
        if len(form.getlist(name)) > 1:
            raise PageError(f"The form field '{name}' is repeated.")
    mock = ext()
    request_id = form.get("request_id", "")
    pending: Pending | None = mock.store.get_pending(request_id) if request_id else None
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
        grant = mock.server.get_consent_grant(oauth_request, end_user=None)
    except OAuth2Error as error:
        mock.store.take_pending(request_id)
        return _oauth_error(error, oauth_request.payload.client_id)
    return _Posted(request_id, csrf, oauth_request, grant)


def _take(request_id: str) -> None:
    if not ext().store.take_pending(request_id):
        raise PageError("This sign-in request was already used. "
                        "Start the login again from your application.")


@bp.post("/oauth/authorize")
def login() -> Response:
    posted = _verified_post()
    if isinstance(posted, Response):
        return posted
    mock = ext()
    username = request.form.get("username", "")
    user = mock.store.authenticate_user(username, request.form.get("password", ""))
    if user is None:
        if mock.store.fail_pending(posted.request_id):
            raise PageError("Too many wrong passwords: this sign-in request has ended. "
                            "Start the login again from your application.", status=429)
        return _login_page(posted.grant, posted.request_id, posted.csrf,
                           error="Wrong username or password.", username=username)
    _take(posted.request_id)
    return mock.server.create_authorization_response(posted.oauth_request, grant_user=user,
                                                     grant=posted.grant)


@bp.post("/oauth/authorize/cancel")
def cancel() -> Response:
    """The user declined: access_denied to the client (RFC 6749 §4.1.2.1, §4.2.2.1)."""
    posted = _verified_post()
    if isinstance(posted, Response):
        return posted
    _take(posted.request_id)
    # No user: Authlib's grants answer access_denied in the query (code) or the
    # fragment (token), with state; the server sets the description.
    return ext().server.create_authorization_response(posted.oauth_request, grant_user=None,
                                                      grant=posted.grant)


@bp.after_request
def _no_store(response: Response) -> Response:
    # The implicit redirect carries a token: no cache may keep it (R12, RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
