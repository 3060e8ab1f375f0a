"""The OAuth callback as a Flask blueprint, for the web service (service.callback does the work).

The CLI's loopback server serves the same callback without Flask (service.loopback.handler);
both answer with service.callback's pages and headers, so the two cannot drift apart.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Blueprint, Response, g, request
from flask.typing import ResponseReturnValue

from ..callback import (Completion, Exchange, TakePending, complete_code, complete_fragment,
                       default_exchange, is_response, page_headers, relay_page, result_page)
from ..errors import GcloginError, OAuthError
from ..oauth import PendingLogin, TokenResponse

OnSuccess = Callable[[PendingLogin, TokenResponse], ResponseReturnValue]
OnError = Callable[["PendingLogin | None", GcloginError], ResponseReturnValue]


def render_result(ok: bool, title: str, detail: str = "", status: int = 200) -> Response:
    """The small success/error page (its headers come from the blueprint, or the app)."""
    return Response(result_page(ok, title, detail), status=status, mimetype="text/html")


def default_on_error(pending: PendingLogin | None, error: GcloginError) -> ResponseReturnValue:
    return render_result(False, "Login failed", str(error), 400)


def callback_blueprint(*, take_pending: TakePending, on_success: OnSuccess,
                       on_error: OnError = default_on_error, exchange: Exchange = default_exchange,
                       path: str = "/", name: str = "gclogin_callback") -> Blueprint:
    """A blueprint serving the callback at ``path`` (the web service: "/callback/<issuer>";
    route variables are for ``take_pending``, which can read them from the request)."""
    bp = Blueprint(name, __name__)

    def answer(done: Completion) -> ResponseReturnValue:
        if isinstance(done.outcome, GcloginError):
            return on_error(done.pending, done.outcome)
        assert done.pending is not None
        return on_success(done.pending, done.outcome)

    @bp.get(path, endpoint="callback")
    def callback(**_route: str) -> ResponseReturnValue:
        if is_response(request.query_string.decode("latin-1")):
            return answer(complete_code(request.query_string, take_pending, exchange))
        return Response(relay_page(g.gclogin_nonce, request.path), mimetype="text/html")

    @bp.post(path, endpoint="relay")
    def relay(**_route: str) -> ResponseReturnValue:
        return answer(complete_fragment(request.form.get("fragment", ""), take_pending))

    @bp.before_request
    def make_nonce() -> None:
        g.gclogin_nonce = secrets.token_urlsafe(18)  # the app's CSP shares it (web.security)

    @bp.after_request
    def harden(response: Response) -> Response:
        response.headers.update(page_headers(g.get("gclogin_nonce", "")))
        return response

    return bp


__all__ = ["callback_blueprint", "default_exchange", "default_on_error", "render_result",
           "OAuthError", "TakePending", "OnSuccess", "OnError", "Exchange"]
