"""Log in: client credentials server-side; implicit and PKCE through the browser.

The callback at ``/callback/<issuer id>`` (one per authorization server, R26) is the client library's blueprint
(``service.web.callback.callback_blueprint``, shared with the CLI's loopback server):
a PKCE code in the query is exchanged server-side; an implicit token arrives in the
fragment, which the library's relay page POSTs back same-origin (R22; the browser's
history database still records the token-bearing URL, see docs/security.md). That POST is
bound to the session by the single-use state of the pending login rather than by a
CSRF form token.
"""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from service.environments import origin
from service.errors import GcloginError, StateError
from .callback import callback_blueprint
from service.oauth import PendingLogin, TokenResponse, parse_params
from service.profile_answers import profile_from_answers
from service.profiles import GrantType, Profile

from . import flows
from .context import CALLBACK_PREFIX, WebContext, web
from .errors import render_error
from .security import csrf_exempt, local_path_or

bp = Blueprint("login", __name__)


@bp.post("/profiles/<name>/login")
def start(name: str) -> ResponseReturnValue:
    ctx = web()
    profile = ctx.load_profile(name)
    next_path = local_path_or(request.form.get("next"), url_for("profiles.show", name=name))
    return login(ctx, profile, next_path=next_path, save_profile=None)


def login(ctx: WebContext, profile: Profile, *, next_path: str, save_profile: dict | None,
          form_origins: frozenset[str] | None = None) -> ResponseReturnValue:
    """Do (client credentials) or start (implicit, PKCE) the login of profile.

    ``form_origins``: the origins the submitting page's CSP ``form-action`` allows. A
    browser blocks a form's redirect elsewhere, so then the user gets a page with a
    plain link to the authorization server instead (None: the page allowed it).
    """
    if profile.access_token:
        if save_profile is not None:
            ctx.save_answers(profile, save_profile)
            flash(f"Profile {profile.name} saved.", "notice")
        else:
            flash("This profile uses a fixed access token: nothing to log in to.", "notice")
        return redirect(next_path, 303)
    if profile.grant_type is GrantType.CLIENT_CREDENTIALS:
        token = flows.client_credentials(ctx, profile)
        if save_profile is not None:
            ctx.save_answers(profile.with_token(token), save_profile)
            flash(f"Profile {profile.name} saved.", "notice")
        else:
            ctx.save_token(profile.name, token)
        flash(f"Logged in with client credentials as profile {profile.name}.", "notice")
        return redirect(next_path, 303)
    if profile.grant_type.is_browser:
        url = flows.begin_browser_login(ctx, profile, save_profile=save_profile, next_path=next_path)
        if form_origins is not None and origin(url) not in form_origins:
            return render_template("continue.html", url=url, origin=origin(url))
        return redirect(url, 303)
    flash("This profile has no grant type to log in with.", "error")
    return redirect(next_path, 303)


def _on_success(pending: PendingLogin, token: TokenResponse) -> ResponseReturnValue:
    ctx = web()
    data = pending.data
    name = data["profile"]
    if data.get("new_profile") is not None:
        fields = data["new_profile"]
        # checked when the form was sent; save_new re-checks overwrite under the store's lock
        profile = profile_from_answers(fields, existing=ctx.store.names())
        ctx.save_answers(profile.with_token(token.to_token_data()), fields)
        flash(f"Profile {name} saved.", "notice")
    else:
        ctx.save_token(name, token.to_token_data())
    flash(f"Logged in; profile {name} holds the token.", "notice")
    return redirect(local_path_or(data.get("next"), url_for("profiles.show", name=name)), 303)


def _on_error(pending: PendingLogin | None, error: GcloginError) -> ResponseReturnValue:
    if isinstance(error, StateError) and pending is None and flows.SESSION_KEY not in session:
        # No login waits in this browser session: most often the login started under another
        # host name (127.0.0.1 vs localhost), whose cookie this one never sees.
        ctx = web()
        here = f"{request.scheme}://{request.host}"
        started = flows.started_at(ctx, received_state())
        if started is not None and started.lower() != here.lower():
            return render_template("other_host.html", started=started, here=here,
                                   public_url=ctx.public_url), 400
    return render_error(error)


def received_state() -> str | None:
    """The state of the callback being answered: in the query (PKCE) or the relayed fragment."""
    raw = request.form.get("fragment", "") if request.method == "POST" else \
        request.query_string.decode("latin-1")
    try:
        return parse_params(raw).get("state")
    except GcloginError:
        return None


def register_callback(app: Flask) -> None:
    """Mount the library's callback blueprint at /callback/<issuer id>, wired to this service's store."""
    callback = callback_blueprint(
        take_pending=lambda state: flows.take_pending(web(), state, arrived_at=request.path),
        on_success=_on_success, on_error=_on_error,
        exchange=lambda pending, code: flows.exchange(web(), pending, code),
        path=CALLBACK_PREFIX + "<issuer>", name="callback")
    app.register_blueprint(callback)
    # The relay POST is bound to the session by the pending login's single-use state.
    csrf_exempt(app.view_functions["callback.relay"])
