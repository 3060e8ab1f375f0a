"""What `gclogin auth status` shows, as pure functions over a resolved profile.

The I/O (reading the file, GET /api/v2/users/me) stays in the CLI; everything here is
text from values, so the wording is pinned by fast tests.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, UTC
from typing import Any

from .environments import DEFAULT_ENVIRONMENT
from .logins import ENV_ACCESS_TOKEN, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REGION
from .profiles import GrantType, Profile, format_rfc3339

#: Overrides field -> (gc's flag, gc's environment variable)
SOURCES = {
    "environment": ("--environment", ENV_REGION),
    "client_id": ("--clientid", ENV_CLIENT_ID),
    "client_secret": ("--clientsecret", ENV_CLIENT_SECRET),
    "access_token": ("--accesstoken", ENV_ACCESS_TOKEN),
}
DEFAULT_ENVIRONMENT_LABEL = f"{DEFAULT_ENVIRONMENT} (US East, production)"


def value_source(field: str, flags: Mapping[str, str], env: Mapping[str, str]) -> str:
    """Where a value came from, in gc's order: a flag, then a GENESYSCLOUD_* variable, then the profile."""
    flag, variable = SOURCES[field]
    if flags.get(field) is not None:
        return f"flag {flag}"
    if env.get(variable):
        return variable
    return "profile"


def describe_user(me: Mapping[str, Any]) -> str:
    """``Name (email)`` from a users/me body, with what is there."""
    name = str(me.get("name") or me.get("username") or me.get("id") or "unknown user")
    email = me.get("email") or me.get("username")
    return f"{name} ({email})" if email and email != name else name


def describe_token(profile: Profile, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if profile.access_token:
        return "an access token given (expiry unknown)"
    token = profile.token_data
    if profile.token_error:
        return "unreadable cached token (a login replaces it)"
    if token is None or not token.access_token:
        return "none (not logged in)"
    if token.error:
        return f"cached token with an error: {token.error}"
    if token.expiry is None:
        return "cached, expiry unknown"
    when = format_rfc3339(token.expiry)
    return f"valid until {when}" if token.is_valid(now) else f"expired at {when}"


def has_usable_token(profile: Profile, now: datetime | None = None) -> bool:
    return bool(profile.access_token) or (profile.token_data is not None and profile.token_data.is_valid(now))


def logged_in_as(profile: Profile, me: Mapping[str, Any] | None, problem: str = "",
                 now: datetime | None = None) -> str:
    """Who the token belongs to: a user from users/me, "client credentials", or why unknown."""
    if not has_usable_token(profile, now):
        return "nobody (no valid token)"
    if profile.grant_type is GrantType.CLIENT_CREDENTIALS and not profile.access_token:
        return f"client credentials (client {profile.client_id})"
    if me is not None:
        return describe_user(me)
    return f"unknown ({problem})" if problem else "unknown"


def environment_label(environment: str) -> str:
    return environment or DEFAULT_ENVIRONMENT_LABEL


def status_lines(profile: Profile, *, flags: Mapping[str, str], env: Mapping[str, str], who: str,
                 now: datetime | None = None) -> list[str]:
    """The block for one profile: one fact a line, each override's source named."""
    lines = [f"{profile.name}",
             f"  environment: {environment_label(profile.environment)} "
             f"({value_source('environment', flags, env)})",
             f"  grant: {profile.grant_type.value}. {profile.grant_type.label}"]
    if profile.client_id:
        lines.append(f"  client ID: {profile.client_id} ({value_source('client_id', flags, env)})")
    if profile.client_secret:
        lines.append(f"  client secret: set ({value_source('client_secret', flags, env)})")
    if profile.access_token:
        lines.append(f"  access token: given ({value_source('access_token', flags, env)})")
    if profile.redirect_uri and profile.grant_type.is_browser:
        lines.append(f"  redirect URI: {profile.redirect_uri}")
    lines.append(f"  logged in as: {who}")
    lines.append(f"  token: {describe_token(profile, now)}")
    return lines


def login_line(environment: str, who: str) -> str:
    """The line after a successful login."""
    return f"Logged in to {environment_label(environment)} as {who}"
