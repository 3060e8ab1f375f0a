"""The new-profile form: the questions of ``gclogin profiles new``, checked by the library.

Each field is validated by the same library function the CLI uses (name, environment,
grant type, port); the cross-field rules are gc's (REFERENCE §2). Errors are collected
per field so the form can show them all at once; secrets are never echoed back.
"""
from __future__ import annotations

from collections.abc import Mapping

from service.environments import DEFAULT_ENVIRONMENT, normalize_environment
from service.errors import InvalidValueError
from service.profiles import (DEFAULT_PROFILE, GrantType, Profile, build_redirect_uri, check_name,
                              parse_grant_type)
from service.untrusted import clean_secret

FIELDS = ("name", "environment", "access_token", "grant_type", "client_id", "client_secret",
          "redirect_port", "secure_login", "overwrite")
SECRET_FIELDS = frozenset({"access_token", "client_secret"})
GRANT_CHOICES = tuple((g.value, g.label) for g in GrantType)


class FormErrors(InvalidValueError):
    """One or more fields are invalid; ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors))
        super().__init__(first, errors[first])
        self.errors = errors


def form_values(form: Mapping[str, str]) -> dict[str, str]:
    """The submitted fields we know, stripped (secrets included: keep them server-side)."""
    return {name: str(form.get(name, "")).strip() for name in FIELDS}


def profile_from_fields(fields: Mapping[str, str]) -> Profile:
    """A Profile from the form's fields, or FormErrors naming every bad field."""
    errors: dict[str, str] = {}

    def check(field: str, fn, *args):
        try:
            return fn(*args)
        except InvalidValueError as exc:
            errors[field] = str(exc).split(": ", 1)[-1]
            return None

    name = check("name", check_name, fields.get("name") or DEFAULT_PROFILE)
    environment = check("environment", normalize_environment,
                        fields.get("environment") or DEFAULT_ENVIRONMENT)
    grant = check("grant_type", parse_grant_type, fields.get("grant_type") or "")
    access_token = check("access_token", clean_secret, "access_token", fields.get("access_token", "")) or ""
    client_id = fields.get("client_id", "")
    secret = check("client_secret", clean_secret, "client_secret", fields.get("client_secret", "")) or ""
    if grant is GrantType.NONE and not access_token:
        errors["grant_type"] = "None is only possible with an access token"
    if grant is not None and grant is not GrantType.NONE and not client_id:
        errors["client_id"] = f"Client ID is required for {grant.label}."
    if grant is GrantType.CLIENT_CREDENTIALS and not secret:
        errors["client_secret"] = "Client secret is required for Client Credentials."
    redirect_uri = ""
    if grant is not None and grant.is_browser:
        raw_port = fields.get("redirect_port") or "0"
        if not (raw_port.isascii() and raw_port.isdigit()) or int(raw_port) > 65535:
            errors["redirect_port"] = f"port {raw_port!r} is not a number in 0-65535"
        else:
            redirect_uri = build_redirect_uri(int(raw_port), bool(fields.get("secure_login")))
    if errors:
        raise FormErrors(errors)
    assert name is not None and environment is not None and grant is not None
    return Profile(name=name, grant_type=grant, client_id=client_id,
                   client_secret=secret if grant in (GrantType.CLIENT_CREDENTIALS, GrantType.IMPLICIT) else "",
                   redirect_uri=redirect_uri, environment=environment, access_token=access_token,
                   secure_login_enabled=bool(fields.get("secure_login")) if grant.is_browser else False)
