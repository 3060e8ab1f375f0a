"""Security headers, per-request CSP nonces, CSRF tokens and local-only redirects.

CSRF uses the synchronizer-token pattern: a random token kept in the signed session
and echoed by every POST form, compared in constant time. The CSP allows only this
origin's stylesheet and nonce'd inline scripts (R5); ``form-action`` also lists the
authorization server origins a login form redirects to (browsers enforce form-action
on redirects).

Against DNS rebinding (a page on ``rebind.test`` whose name now points at 127.0.0.1)
the service answers only to its own names: the public URL's host, and the loopback
names on the port it is bound to; any other ``Host`` gets 421. And every POST must come
from this origin: ``Origin`` equal to it, or (where a browser leaves Origin out)
``Sec-Fetch-Site: same-origin``. Neither header can be set by a page on another origin.
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TypeGuard, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request, session
from flask.typing import ResponseReturnValue

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


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def host_allowed(host: str, *, public_url: str, bound_port: int | None,
                 extra: frozenset[str] = frozenset()) -> bool:
    """Pure: ``host`` (a Host header) names this service: the public URL's host and port,
    a loopback name on the bound port, or one of ``extra`` (``SERVICE_ALLOWED_HOSTS``)."""
    public = urlsplit(public_url)
    public_port = public.port or (443 if public.scheme == "https" else 80)
    name, port = _split_host(host, default_port=public_port)
    if name is None:
        return False
    if name == (public.hostname or "").lower() and port == public_port:
        return True
    if name in LOOPBACK_NAMES and port in (bound_port, public_port):
        return True
    return host.lower() in extra or name in extra


def canonical_location(host: str, target: str, *, public_url: str) -> str | None:
    """Pure: where to send a request for ``target`` (path and query) that arrived under
    another loopback name than the public URL's (127.0.0.1 vs localhost) on its port, or None.

    Cookies are per host name: a login started at one name and called back at the other
    finds no session. So every page is served under one name only. Another port is not
    the public URL's listener (a server started without SERVICE_PUBLIC_URL): no redirect.
    """
    parts = urlsplit(public_url)
    public, public_port = (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)
    name, port = _split_host(host, default_port=public_port)
    if name is None or name not in LOOPBACK_NAMES or name == public or port != public_port \
            or not is_local_path(target):
        return None
    return public_url + target


def same_origin_post(origin: str | None, fetch_site: str | None, *, own_origins: set[str]) -> bool:
    """Pure: a POST this origin's own pages sent (Origin one of ours, or, without a real
    Origin, ``Sec-Fetch-Site: same-origin``). Anything else is refused."""
    if origin is not None and origin.rstrip("/").lower() in own_origins:
        return True
    # Under our Referrer-Policy: no-referrer a browser sends "Origin: null" even on its own
    # origin's forms; Sec-Fetch-Site (which no page can set) then says where it came from.
    return (fetch_site or "").lower() == "same-origin" and origin in (None, "", "null")


def _split_host(host: str, default_port: int) -> tuple[str | None, int | None]:
    if not host or any(c in host for c in "/\\?#@ \t"):
        return None, None
    try:
        parts = urlsplit("//" + host)
        return (parts.hostname or "").lower() or None, parts.port or default_port
    except ValueError:
        return None, None


def _bound_port() -> int | None:
    """The port of the socket this request arrived on (gunicorn and werkzeug expose it)."""
    for key in ("gunicorn.socket", "werkzeug.socket"):
        sock = request.environ.get(key)
        if sock is not None:
            try:
                return int(sock.getsockname()[1])
            except (OSError, IndexError, TypeError, ValueError):
                break
    port = request.environ.get("SERVER_PORT", "")
    return int(port) if str(port).isdigit() else None


def _check_host() -> None:
    from flask import current_app

    cfg = current_app.config
    if not host_allowed(request.host, public_url=cfg["PUBLIC_URL"], bound_port=_bound_port(),
                        extra=cfg["ALLOWED_HOSTS"]):
        abort(421, description="This service answers only to its own address; the Host header "
                               "names another (possible DNS rebinding). Use the URL it was "
                               "configured with (SERVICE_PUBLIC_URL), or add the name to "
                               "SERVICE_ALLOWED_HOSTS.")


#: answered under any allowed name: probes (compose checks 127.0.0.1) and the OAuth callback,
#: whose wrong-host case gets its own page (login._on_error)
_ANY_HOST = frozenset({"healthz.healthz", "static", "favicon.icon"})


def _one_host_name() -> ResponseReturnValue | None:
    if request.method not in ("GET", "HEAD") or request.endpoint in _ANY_HOST:
        return None
    if request.blueprint == "callback":
        return None
    from flask import current_app, redirect

    target = request.full_path if request.query_string else request.path
    location = canonical_location(request.host, target, public_url=current_app.config["PUBLIC_URL"])
    return redirect(location, 302) if location else None


def _check_origin() -> None:
    if request.method != "POST":
        return
    from flask import current_app

    public = urlsplit(current_app.config["PUBLIC_URL"])
    own = {f"{public.scheme}://{public.netloc}".lower(), f"{request.scheme}://{request.host}".lower()}
    if not same_origin_post(request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site"),
                            own_origins=own):
        abort(403, description="This form was not sent from this service's own pages "
                               "(the Origin header is missing or names another site).")


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
    app.before_request(_check_host)
    app.before_request(_one_host_name)
    app.before_request(_check_origin)
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals.update(csp_nonce=csp_nonce, csrf_token=csrf_token,
                                 csrf_field=CSRF_FIELD)
