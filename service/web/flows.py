"""The login flows of the web service, on top of the client library.

Client credentials run server-side; implicit and PKCE start here, go through the
browser, and finish in the callback. The state and PKCE verifier stay server-side
(``PendingLogins``); the session cookie only carries an opaque id. IdP calls are
retried with a bounded backoff when the server cannot be reached (compose starts the
web service and the IdP in no guaranteed order).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from flask import request, session

from service import api, oauth
from service import logins as library
from service.environments import Endpoints
from service.environments import origin
from service.errors import AuthorizeRefusedError, NetworkError, NoResponseError, OAuthError, RedirectError
from service.preflight import PREFLIGHT_TIMEOUT, check_authorize
from service.profiles import GrantType, Profile, TokenData

from .context import WebContext, callback_url
from .errors import CredentialsRejected

T = TypeVar("T")
SESSION_KEY = "login"
STARTED_AT = "started-at\0"


def with_retries(ctx: WebContext, call: Callable[[], T], *, retry_unanswered: bool = True) -> T:
    """call(), retried on NetworkError at most ctx.retries times (delays double).

    retry_unanswered=False: not after NoResponseError, for a call the server must not see twice.
    """
    delay = ctx.retry_delay
    for attempt in range(ctx.retries + 1):
        try:
            return call()
        except NetworkError as exc:
            if attempt == ctx.retries or (isinstance(exc, NoResponseError) and not retry_unanswered):
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def client_credentials(ctx: WebContext, profile: Profile) -> TokenData:
    """Log in server-side with the library (R8-R10); the token to cache.

    A refusal by the token endpoint becomes CredentialsRejected (its code, not the
    server's description); "invalid_response" is our own account of a broken answer.
    """
    if profile.grant_type is not GrantType.CLIENT_CREDENTIALS:
        raise ValueError("only client credentials log in server-side")
    server_profile = ctx.server_profile(profile)
    try:
        return with_retries(ctx, lambda: library.login(server_profile))
    except OAuthError as exc:
        if exc.error == "invalid_response":
            raise
        raise CredentialsRejected(exc.error) from None


def begin_browser_login(ctx: WebContext, profile: Profile, *, save_profile: dict[str, Any] | None,
                        next_path: str) -> str:
    """Record a pending implicit/PKCE login for this session; return the authorize URL.

    ``save_profile`` carries a new profile's fields: it is saved only when the login
    succeeds (as ``gc profiles new`` validates before saving).
    """
    routes = ctx.routes(profile.environment, profile.insecure)
    # The login is bound to the issuer the browser sees (its `iss`, R26); the server
    # reaches that same issuer through routes.server (compose: another host name).
    pending = oauth.start_login(profile.grant_type, client_id=profile.client_id,
                                redirect_uri=callback_url(ctx.public_url, routes), endpoints=routes.browser,
                                data={"profile": profile.name, "new_profile": save_profile,
                                      "next": next_path,
                                      "server_endpoints": asdict(routes.server)})
    if ctx.preflight:
        preflight(ctx, pending.authorize_url(), routes.browser, routes.server)
    previous = session.get(SESSION_KEY)
    if isinstance(previous, str):
        ctx.pending.take(previous)  # one browser login per session at a time
    session[SESSION_KEY] = ctx.pending.put(_dump(pending))
    # Where it started, found by the state alone: a callback arriving under another host
    # name (no session cookie there) can then say so (login._on_error).
    ctx.pending.put_named(STARTED_AT + pending.state, {"origin": f"{request.scheme}://{request.host}"})
    return pending.authorize_url()


def preflight(ctx: WebContext, url: str, browser: Endpoints, server: Endpoints) -> None:
    """The authorize request sent from here first (service.preflight), at the server's route
    to the IdP: an unreachable IdP (NetworkError) or its error page (AuthorizeRefusedError,
    naming the origin the browser would have seen) gives an error page instead of sending
    the browser off."""
    server_url = server.authorize_url + url[len(browser.authorize_url):]
    try:
        with_retries(ctx, lambda: check_authorize(server_url, timeout=min(ctx.timeout, PREFLIGHT_TIMEOUT)))
    except AuthorizeRefusedError as exc:
        redirect_uri = parse_qs(urlsplit(url).query).get("redirect_uri", [""])[0]
        raise AuthorizeRefusedError(origin(url), exc.reason, exc.ports, exc.any_port, redirect_uri) from None


def started_at(ctx: WebContext, received_state: str | None) -> str | None:
    """The origin a login with this state was started at, if it is still pending."""
    record = ctx.pending.peek(STARTED_AT + received_state) if received_state else None
    return str(record["origin"]) if record else None


def take_pending(ctx: WebContext, received_state: str | None, arrived_at: str) -> oauth.PendingLogin | None:
    """The session's pending login for the library callback blueprint.

    Used up (R21) only when the received state matches; a wrong state leaves the
    login waiting and the blueprint's exact check refuses the response (R20). A matching
    response that arrived at another issuer's callback (``arrived_at``, the request path)
    ends the login: the login went to one authorization server and the answer came from
    another, the mix-up attack (R26), so the code never reaches the first one.
    """
    opaque_id = session.get(SESSION_KEY)
    record = ctx.pending.peek(opaque_id)
    if record is None:
        return None
    if oauth.state_matches(received_state, record["state"]):
        session.pop(SESSION_KEY, None)
        if ctx.pending.take(opaque_id) is None:
            return None  # another request used it first
        expected = urlsplit(record["redirect_uri"]).path
        if arrived_at != expected:
            raise RedirectError(f"the response came back to {arrived_at}, but this login went to the "
                                f"authorization server of {expected}: refused, and the login is over "
                                "(possible mix-up attack, R26)")
    return _load(record)


def exchange(ctx: WebContext, pending: oauth.PendingLogin, code: str) -> oauth.TokenResponse:
    """PKCE code exchange, server-side, at the issuer the login started with (R26)."""
    server = Endpoints(**pending.data["server_endpoints"])
    # Retried only if the IdP never got the request: it may have used the code otherwise.
    return with_retries(ctx, lambda: api.exchange_code(
        server, code=code, redirect_uri=pending.redirect_uri,
        code_verifier=pending.code_verifier or "", client_id=pending.client_id, timeout=ctx.timeout),
        retry_unanswered=False)


def _dump(pending: oauth.PendingLogin) -> dict[str, Any]:
    return {"grant": pending.grant.value, "client_id": pending.client_id,
            "redirect_uri": pending.redirect_uri, "endpoints": asdict(pending.endpoints),
            "state": pending.state, "code_verifier": pending.code_verifier,
            "scope": pending.scope, "data": dict(pending.data)}


def _load(record: dict[str, Any]) -> oauth.PendingLogin:
    return oauth.PendingLogin(grant=GrantType(record["grant"]), client_id=record["client_id"],
                              redirect_uri=record["redirect_uri"],
                              endpoints=Endpoints(**record["endpoints"]), state=record["state"],
                              code_verifier=record["code_verifier"], scope=record["scope"],
                              data=record["data"])
