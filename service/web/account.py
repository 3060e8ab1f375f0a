"""Who am I (GET /api/v2/users/me) and log out (DELETE /api/v2/tokens/me).

Both run the library's token logic (``service.logins.call_with_token`` / ``logout``):
an explicit access token, else the cached one, else a client-credentials login; a
browser-grant profile without a token is asked to log in.
"""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from service import api
from service import logins as library
from service.errors import ApiError, LoginRequiredError

from . import flows
from .context import web

bp = Blueprint("account", __name__)


@bp.get("/profiles/<name>/me")
def me(name: str) -> ResponseReturnValue:
    ctx = web()
    resolved = ctx.resolve(name)
    server = library.Resolved(ctx.server_profile(resolved.profile), resolved.persist)
    url = library.endpoints_for(server.profile).api("/api/v2/users/me")
    try:
        body = flows.with_retries(ctx, lambda: library.call_with_token(
            ctx.store, server, lambda endpoints, token: api.get_users_me(
                endpoints, token, timeout=ctx.timeout)))
    except LoginRequiredError:
        ctx.forget_session_token(resolved)
        return render_template("error.html", title="Log in first",
                               message=f"Profile {name} has no valid token: log in first."), 401
    except ApiError as exc:
        return render_template("me.html", name=name, url=url, error=exc.message, status=exc.status,
                               body=json.dumps(exc.body, indent=2, sort_keys=True)), exc.status
    return render_template("me.html", name=name, url=url, error=None, status=200,
                           body=json.dumps(body, indent=2, sort_keys=True))


@bp.post("/profiles/<name>/logout")
def logout(name: str) -> ResponseReturnValue:
    ctx = web()
    resolved = ctx.resolve(name)
    server = library.Resolved(ctx.server_profile(resolved.profile), resolved.persist)
    if flows.with_retries(ctx, lambda: library.logout(ctx.store, server)):
        ctx.forget_session_token(resolved)
        flash("Logged out: the token was revoked and forgotten.", "notice")
    else:
        flash(f"Profile {name} holds no token: nothing to revoke.", "notice")
    return redirect(url_for("profiles.show", name=name), 303)
