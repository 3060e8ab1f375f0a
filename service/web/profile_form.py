"""The profile form: the questions of ``gclogin profiles new``, checked by the library.

The rules are the library's (``service.profile_answers``, the CLI's too); this module only
maps the form's text fields to answers, plus two rules of the form itself: an access token
given means grant 0 (it takes precedence over any grant in gc, so the other fields are not
asked for), and an edit keeps the stored secrets a blank field leaves out. Secrets are never
echoed back.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from service.environments import DEFAULT_ENVIRONMENT
from service.profile_answers import ANSWER_FIELDS
from service.profiles import GrantType, Profile

FIELDS = ANSWER_FIELDS
SECRET_FIELDS = frozenset({"access_token", "client_secret"})
GRANT_CHOICES = tuple((g.value, g.label) for g in GrantType)
#: what a blank environment becomes, as the form says before saving
DEFAULT_ENVIRONMENT_LABEL = f"{DEFAULT_ENVIRONMENT} (US East, production)"
#: the grants each group of fields is asked for (gc's prompts, REFERENCE §2); the page shows
#: every group without JavaScript, and its script hides the ones the chosen grant ignores
GRANT_GROUPS = {"client_id": ("1", "2", "3"), "client_secret": ("1", "2"), "redirect": ("2", "3")}


def form_values(form: Mapping[str, str]) -> dict[str, str]:
    """The submitted fields we know, stripped (secrets included: keep them server-side).

    An access token given makes the grant 0 (None), whatever the grant field says.
    """
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    if values["access_token"]:
        values["grant_type"] = GrantType.NONE.value
    return values


def with_stored_secrets(values: dict[str, str], stored: Profile, *, forget_token: bool) -> dict[str, str]:
    """An edit's fields: a blank secret keeps the stored one (the page never shows them);
    the stored access token goes only when ``forget_token`` says so."""
    out = dict(values)
    if not out["access_token"] and stored.access_token and not forget_token:
        out["access_token"] = stored.access_token
        out["grant_type"] = GrantType.NONE.value
    if not out["client_secret"] and stored.client_secret and out["grant_type"] in GRANT_GROUPS["client_secret"]:
        out["client_secret"] = stored.client_secret
    return out


def edited(stored: Profile, answered: Profile) -> Profile:
    """The stored profile with the form's answers: keys the form doesn't ask for (gc's proxy,
    gateway and logging settings) stay; the cached token is the answer's (the login that
    checked the new credentials, or none), never the old credentials' one."""
    return replace(stored, grant_type=answered.grant_type, environment=answered.environment,
                   access_token=answered.access_token, client_id=answered.client_id,
                   client_secret=answered.client_secret, redirect_uri=answered.redirect_uri,
                   secure_login_enabled=answered.secure_login_enabled,
                   token_data=answered.token_data)


def edit_values(profile: Profile) -> dict[str, str]:
    """The form's fields for an existing profile (secrets left blank)."""
    return {"name": profile.name, "environment": profile.environment,
            "grant_type": profile.grant_type.value, "client_id": profile.client_id,
            "redirect_port": _port_text(profile),
            "secure_login": "y" if profile.secure_login_enabled else ""}


def _port_text(profile: Profile) -> str:
    try:
        return str(profile.redirect_port)
    except ValueError:  # an unusable stored URI: the form asks again (its default, 0)
        return "0"
