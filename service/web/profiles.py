"""The profile list, the new-profile form and one profile's page."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, UTC

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.environments import DEFAULT_ENVIRONMENT, origin
from service.errors import GcloginError
from service.profile_answers import ProfileAnswersError, profile_from_answers
from service.profiles import MASK, GrantType, Profile

from . import display
from .context import WebContext, web
from .errors import form_message
from .profile_form import (DEFAULT_ENVIRONMENT_LABEL, GRANT_CHOICES, GRANT_GROUPS, SECRET_FIELDS,
                           edit_values, form_values, with_stored_secrets)
from .security import allow_form_action

bp = Blueprint("profiles", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    ctx = web()
    rows, broken = [], []
    names = ctx.store.names()
    if ctx.genesyscloud and "DEFAULT" not in names:
        names = ["DEFAULT", *names]
    for name in names:
        try:
            profile = ctx.load_profile(name)
        except GcloginError as exc:
            broken.append((name, str(exc)))
            continue
        rows.append({"name": name, "environment": profile.environment,
                     "grant": profile.grant_type.label, "client_id": profile.client_id,
                     "token": token_status(profile)})
    return render_template("index.html", profiles=rows, broken=broken,
                           config_path=ctx.store.path, overrides=sorted(ctx.genesyscloud))


@bp.route("/profiles/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    ctx = web()
    if request.method != "POST":  # GET and HEAD alike
        values = {"name": "DEFAULT", "environment": _default_environment(ctx),
                  "grant_type": GrantType.PKCE.value, "redirect_port": "0"}
        return _form(values, {})
    fields = form_values(request.form)
    try:
        profile = profile_from_answers(fields, existing=ctx.store.names())
    except ProfileAnswersError as exc:
        return _form(fields, exc.errors), 409 if set(exc.errors) == {"overwrite"} else 400
    return _save_or_login(profile, fields, lambda message: _form(fields, {"form": message}))


@bp.route("/profiles/<name>/edit", methods=["GET", "POST"])
def edit(name: str) -> ResponseReturnValue:
    """Change a saved profile; saved (in place) only once its new credentials log in, as new ones."""
    ctx = web()
    stored = ctx.store.get(name)  # the file's profile: GENESYSCLOUD_* overrides are not saved
    if request.method != "POST":
        return _form(edit_values(stored), {}, stored=stored)
    shown = {**form_values(request.form), "name": name}
    fields = {**with_stored_secrets(shown, stored, forget_token=bool(request.form.get("forget_token"))),
              "overwrite": "y", "edit": "y"}
    try:
        profile = profile_from_answers(fields, existing=ctx.store.names())
    except ProfileAnswersError as exc:
        return _form(shown, exc.errors, stored=stored), 400
    return _save_or_login(profile, fields, lambda message: _form(shown, {"form": message}, stored=stored))


def _save_or_login(profile: Profile, fields: dict[str, str],
                   failed: Callable[[str], str]) -> ResponseReturnValue:
    """gc: unless an access token was given, a login checks the credentials before saving;
    if it fails, nothing is written (an edited profile stays as it was)."""
    from .login import login

    next_path = url_for("profiles.show", name=profile.name)
    try:
        return login(web(), profile, next_path=next_path, save_profile=fields,
                     form_origins=_form_origins())
    except GcloginError as exc:
        # gc: "The credentials provided are not valid." and nothing is saved.
        status, message = form_message(exc)
        return failed(message), status


@bp.route("/profiles/<name>/delete", methods=["GET", "POST"])
def delete(name: str) -> ResponseReturnValue:
    """Delete a profile: GET asks to confirm, the confirming POST (CSRF-checked) deletes."""
    ctx = web()
    ctx.store.get(name)  # 404 for a profile that isn't in the file
    if request.method != "POST":
        return render_template("delete.html", name=name, config_path=ctx.store.path)
    ctx.store.delete(name)
    flash(f"Profile {name} deleted.", "notice")
    return redirect(url_for("profiles.index"), 303)


def _default_environment(ctx: WebContext) -> str:
    """The form's environment: this deployment's (IdP or region); blank means gc's default."""
    default = ctx.default_environment()
    return "" if default == DEFAULT_ENVIRONMENT else default


def _form(values: dict[str, str], errors: dict[str, str], *, stored: Profile | None = None) -> str:
    shown = {k: v for k, v in values.items() if k not in SECRET_FIELDS}
    for key in ("name", "environment", "grant_type", "client_id", "redirect_port",
                "secure_login", "overwrite"):
        shown.setdefault(key, "")
    for allowed in _form_origins():
        allow_form_action(allowed)
    return render_template("new.html", values=shown, errors=errors, grants=GRANT_CHOICES,
                           groups=GRANT_GROUPS, stored=stored,
                           callback_url=web().callback_url(web().default_environment()),
                           default_environment=DEFAULT_ENVIRONMENT_LABEL)


def _form_origins() -> frozenset[str]:
    """Authorization servers the new-profile form may redirect to: this deployment's IdP
    and the default environment's login (others get a page with a link)."""
    ctx = web()
    found = {origin(ctx.idp_public_url)}
    try:
        found.add(origin(ctx.routes(ctx.default_environment()).browser.login_url))
    except GcloginError:
        pass
    return frozenset(found - {""})


@bp.get("/profiles/<name>")
def show(name: str) -> ResponseReturnValue:
    ctx = web()
    profile = ctx.load_profile(name)
    if profile.grant_type.is_browser and not profile.access_token:
        allow_form_action(ctx.routes(profile.environment, profile.insecure).browser.login_url)
    return render_template("profile.html", profile=profile, fields=shown_fields(profile),
                           grant_label=profile.grant_type.label,
                           implicit=profile.grant_type is GrantType.IMPLICIT,
                           logged_in=holds_token(profile), in_file=name in ctx.store.names(),
                           can_login=not profile.access_token and profile.grant_type is not GrantType.NONE)


def holds_token(profile: Profile, now: datetime | None = None) -> bool:
    """What decides "Log in" or "Log out": a fixed token, or a cached one still in use."""
    token = profile.token_data
    return bool(profile.access_token) or bool(
        token and token.access_token and token.is_valid(now or datetime.now(UTC)))


def token_status(profile: Profile, now: datetime | None = None) -> str:
    if profile.access_token:
        return "fixed access token"
    token = profile.token_data
    if token is None or not token.access_token:
        return "not logged in"
    now = now or datetime.now(UTC)
    if not token.is_valid(now):
        if token.expiry is None:
            return "expired"
        if token.expiry > now:  # within the library's safety margin: not used any more
            return f"expires {display.when(token.expiry, now)}: log in again"
        return f"expired {display.when(token.expiry, now)}"
    return f"valid until {display.when(token.expiry, now)}" if token.expiry else "valid"


def shown_fields(profile: Profile) -> list[tuple[str, str]]:
    """What the profile page shows: secrets masked, never printed (R25)."""
    return [
        ("Environment", profile.environment or "(default)"),
        ("Grant type", f"{profile.grant_type.value}. {profile.grant_type.label}"),
        ("Client ID", profile.client_id),
        ("Client secret", MASK if profile.client_secret else ""),
        ("Access token", MASK if profile.access_token else ""),
        ("Redirect URI (CLI logins)", display.redirect_uri(profile.redirect_uri)),
        ("Token", token_status(profile)),
    ]
