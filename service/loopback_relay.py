"""The OAuth callback as a Flask blueprint, shared by the CLI's loopback server and the web service.

GET <path>?code=..&state=..   PKCE: state checked, code exchanged at the login's own issuer (R26)
GET <path>?error=..&state=..  an RFC 6749 error response (R3)
GET <path>                    the implicit relay page: its nonce'd inline script reads the
                              fragment, scrubs history and POSTs it to <path> same-origin (R5, R22)
POST <path>  fragment=...     the implicit fragment, parsed and state-checked

The caller supplies ``take_pending(received_state)`` which returns the waiting login once
and never again (R21) — the CLI holds one login, the web service looks one up in its
store — and ``on_success``/``on_error`` that turn the outcome into a response.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Response, g, render_template, request
from flask.typing import ResponseReturnValue

from .api import exchange_code
from .errors import GcloginError, OAuthError, RedirectError, StateError
from .oauth import PendingLogin, TokenResponse, parse_code_response, parse_implicit_response, parse_params
from .profiles import GrantType
from .security_headers import content_security_policy, security_headers

TakePending = Callable[[str | None], "PendingLogin | None"]
OnSuccess = Callable[[PendingLogin, TokenResponse], ResponseReturnValue]
OnError = Callable[["PendingLogin | None", GcloginError], ResponseReturnValue]
Exchange = Callable[[PendingLogin, str], TokenResponse]

TEMPLATES = Path(__file__).with_name("templates")
_CALLBACK_KEYS = ("code", "state", "error", "error_description", "error_uri", "iss")


def default_exchange(pending: PendingLogin, code: str) -> TokenResponse:
    """Exchange at the token endpoint of the environment the login started with (R26)."""
    assert pending.code_verifier is not None
    return exchange_code(pending.endpoints, code=code, redirect_uri=pending.redirect_uri,
                         code_verifier=pending.code_verifier, client_id=pending.client_id)


def render_result(ok: bool, title: str, detail: str = "", status: int = 200) -> Response:
    """The small success/error page (autoescaped: error_description is shown HTML-escaped)."""
    body = render_template("loopback_result.html", ok=ok, title=title, detail=detail)
    return Response(body, status=status, mimetype="text/html")


def default_on_error(pending: PendingLogin | None, error: GcloginError) -> ResponseReturnValue:
    return render_result(False, "Login failed", str(error), 400)


def callback_blueprint(*, take_pending: TakePending, on_success: OnSuccess,
                       on_error: OnError = default_on_error, exchange: Exchange = default_exchange,
                       path: str = "/", name: str = "gclogin_callback") -> Blueprint:
    """A blueprint serving the callback at ``path`` (CLI: "/", web service: "/callback")."""
    bp = Blueprint(name, __name__, template_folder=str(TEMPLATES))

    def finish_code() -> ResponseReturnValue:
        pending = None
        try:
            query = request.query_string.decode("utf-8")
            received = _state_of(query)
            pending = take_pending(received)
            if pending is None:
                raise StateError("refused: the state is missing, wrong or already used (possible CSRF)")
            if pending.grant is not GrantType.PKCE:
                raise RedirectError("this login expected an implicit (fragment) response")
            code = parse_code_response(query, pending.state, pending.endpoints.login_url)
            token = exchange(pending, code)
        except UnicodeDecodeError:
            return on_error(pending, RedirectError("the response is not valid UTF-8"))
        except GcloginError as exc:
            return on_error(pending, exc)
        return on_success(pending, token)

    @bp.get(path, endpoint="callback")
    def callback() -> ResponseReturnValue:
        if any(key in request.args for key in _CALLBACK_KEYS):
            return finish_code()
        body = render_template("loopback_relay.html", nonce=g.gclogin_nonce, action=request.path)
        return Response(body, mimetype="text/html")

    @bp.post(path, endpoint="relay")
    def relay() -> ResponseReturnValue:
        fragment = request.form.get("fragment", "")
        pending = None
        try:
            pending = take_pending(_state_of(fragment))
            if pending is None:
                raise StateError("refused: the state is missing, wrong or already used (possible CSRF)")
            if pending.grant is not GrantType.IMPLICIT:
                raise RedirectError("this login expected a code in the query, not a fragment")
            token = parse_implicit_response(fragment, pending.state)
        except GcloginError as exc:
            return on_error(pending, exc)
        return on_success(pending, token)

    @bp.before_request
    def make_nonce() -> None:
        g.gclogin_nonce = secrets.token_urlsafe(18)

    @bp.after_request
    def harden(response: Response) -> Response:
        response.headers.update(security_headers(content_security_policy(g.get("gclogin_nonce", ""))))
        return response

    return bp


def _state_of(raw: str) -> str | None:
    """The state of a response, for the lookup only (it is checked exactly later)."""
    try:
        return parse_params(raw).get("state")
    except RedirectError:
        return None


__all__ = ["callback_blueprint", "default_exchange", "default_on_error", "render_result",
           "OAuthError", "TakePending", "OnSuccess", "OnError", "Exchange"]
