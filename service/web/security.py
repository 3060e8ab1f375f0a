"""Security headers, per-request CSP nonces, CSRF tokens and local-only redirects.

CSRF uses the synchronizer-token pattern: a random token kept in the signed session
and echoed by every POST form, compared in constant time. The CSP allows only this
origin's stylesheet and nonce'd inline scripts (R5); ``form-action`` also lists the
authorization server origins a login form redirects to (browsers enforce form-action
on redirects).
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TypeGuard, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request, session

from ..environments import origin
from ..security_headers import content_security_policy, security_headers

F = TypeVar("F", bound=Callable[..., object])

CSRF_FIELD = "csrf_token"
#: endpoints that show no token, secret or session-bound form: browsers may cache them
_CACHEABLE = frozenset({"static", "favicon.icon"})
_CSRF_KEY = "csrf"


def csp_nonce() -> str:
    """The nonce of the current response's CSP (one per request)."""
    if "csp_nonce" not in g:
        # The library's callback blueprint makes its own nonce for its relay page: share it.
        g.csp_nonce = g.get("gclogin_nonce") or secrets.token_urlsafe(18)
    return g.csp_nonce


def allow_form_action(url: str | None) -> None:
    """Let forms on this page lead (through a redirect) to url's origin."""
    found = origin(url)
    if found.startswith(("http://", "https://")):
        g.setdefault("form_origins", set()).add(found)


def csrf_token() -> str:
    """This session's CSRF token, created on first use."""
    token = session.get(_CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return token


def csrf_exempt(view: F) -> F:
    """Mark a view whose POST is protected otherwise (e.g. by a single-use state)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _check_csrf() -> None:
    if request.method != "POST":
        return
    view = _view(request.endpoint) if request.endpoint else None
    if getattr(view, "csrf_exempt", False):
        return
    expected = session.get(_CSRF_KEY)
    sent = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(
            sent.encode(), expected.encode()):
        abort(400, description="The form's CSRF token is missing or does not match this "
                               "session. Reload the page and submit the form again.")


def _view(endpoint: str) -> Callable[..., object] | None:
    from flask import current_app

    return current_app.view_functions.get(endpoint)


def _headers(response: Response) -> Response:
    csp = content_security_policy(csp_nonce(), own_assets=True,
                                  form_action=["'self'", *sorted(g.get("form_origins", ()))])
    response.headers.update(security_headers(csp, no_store=request.endpoint not in _CACHEABLE))
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return response


def is_local_path(target: str | None) -> TypeGuard[str]:
    """True for a path on this origin ("/x?y"), False for anything a browser could
    resolve elsewhere ("//evil", "/\\evil", "https://evil", control characters) (R27)."""
    if not target or not target.startswith("/") or len(target) > 2048:
        return False
    if target.startswith(("//", "/\\")) or any(c in target for c in "\\\r\n\t\x00"):
        return False
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def local_path_or(target: str | None, default: str) -> str:
    """target if it is a local path, else default (never an open redirect)."""
    return target if is_local_path(target) else default


def init_app(app: Flask) -> None:
    """Register the CSRF check, the headers and the template helpers."""
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals.update(csp_nonce=csp_nonce, csrf_token=csrf_token,
                                 csrf_field=CSRF_FIELD)
