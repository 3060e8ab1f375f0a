"""gc's new-profile rules (REFERENCE §2) in one place: answers in, a Profile or one error per field out.

``gclogin profiles new`` asks the questions one by one and the web form sends them all at
once; both call ``profile_from_answers``. A field's rule looks only at that field and the
ones gc asks before it (``ANSWER_FIELDS`` is gc's order), so the CLI can check each
answer as soon as it is given and still fail where gc fails. Messages never repeat a
secret's value.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from .environments import DEFAULT_ENVIRONMENT, normalize_environment
from .errors import InvalidValueError, ProfileAnswersError
from .profiles import (DEFAULT_PROFILE, GrantType, Profile, build_redirect_uri, check_name, check_port,
                       check_stored_name, parse_grant_type)
from .untrusted import clean_secret

#: the answers, in the order gc asks for them
ANSWER_FIELDS = ("name", "environment", "access_token", "grant_type", "client_id", "client_secret",
                 "redirect_port", "secure_login", "overwrite")
Answer = str | int | bool | GrantType | None
_PORT_RE = re.compile(r"[+-]?[0-9]+")

__all__ = ["ANSWER_FIELDS", "Answer", "ProfileAnswersError", "profile_from_answers"]


def profile_from_answers(answers: Mapping[str, Answer], *, existing: Collection[str] = ()) -> Profile:
    """The Profile the answers describe, or ProfileAnswersError naming every bad field.

    ``existing`` holds the profile names already saved: such a name is accepted as it is
    (gc writes names like "my org") but only with a true ``overwrite``. An empty or missing
    name or environment takes gc's default; bools and the port may be given as form text.
    """
    errors: dict[str, str] = {}

    def text(field: str) -> str:
        value = answers.get(field)
        if value is None or isinstance(value, str):
            return value or ""
        errors.setdefault(field, f"{field} must be text")
        return ""

    name = text("name") or DEFAULT_PROFILE
    try:
        (check_stored_name if name in existing else check_name)(name)
    except InvalidValueError as exc:
        errors.setdefault("name", exc.message)
    try:
        environment = normalize_environment(text("environment") or DEFAULT_ENVIRONMENT)
    except InvalidValueError as exc:
        errors.setdefault("environment", exc.message)
        environment = ""
    access_token = _secret("access_token", text("access_token"), errors)
    grant = _grant(answers.get("grant_type"), access_token, errors)
    client_id = text("client_id").strip()
    secret = _secret("client_secret", text("client_secret"), errors)
    redirect_uri, secure = "", False
    if grant is not None and grant is not GrantType.NONE and not client_id:
        errors.setdefault("client_id", f"Client ID is required for {grant.label}.")
    if grant is GrantType.CLIENT_CREDENTIALS and not secret:
        errors.setdefault("client_secret", "Client secret is required for Client Credentials.")
    if grant is not None and grant.is_browser:
        port = _port(answers.get("redirect_port"), errors)
        secure = bool(answers.get("secure_login"))
        redirect_uri = build_redirect_uri(port, secure) if port is not None else ""
    if name in existing and not answers.get("overwrite"):
        errors.setdefault("overwrite", f"Profile name {name} already exists: overwrite it or choose another name")
    if errors:
        raise ProfileAnswersError({f: errors[f] for f in ANSWER_FIELDS if f in errors})
    assert grant is not None  # an unreadable grant is an error above
    keeps_secret = grant in (GrantType.CLIENT_CREDENTIALS, GrantType.IMPLICIT)
    return Profile(name=name, grant_type=grant, environment=environment, access_token=access_token,
                   client_id=client_id if grant is not GrantType.NONE else "",
                   client_secret=secret if keeps_secret else "", redirect_uri=redirect_uri,
                   secure_login_enabled=secure)


def _secret(field: str, value: str, errors: dict[str, str]) -> str:
    """Surrounding whitespace dropped; a control character inside is an error (never quoted)."""
    try:
        return clean_secret(field, value)
    except InvalidValueError as exc:
        errors.setdefault(field, exc.message)
        return ""


def _grant(value: Answer, access_token: str, errors: dict[str, str]) -> GrantType | None:
    """gc's grant 0 (None) is only offered with an access token."""
    if isinstance(value, GrantType):
        grant = value
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            grant = parse_grant_type(value)
        except InvalidValueError as exc:
            errors["grant_type"] = exc.message
            return None
    else:
        errors["grant_type"] = "choose a grant type (0-3)"
        return None
    if grant is GrantType.NONE and not access_token:
        errors["grant_type"] = "grant type 0 (None) is only possible with an access token"
    return grant


def _port(value: Answer, errors: dict[str, str]) -> int | None:
    """The redirect port: a whole number in 0-65535 (0 picks a free one); empty means 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, str) and _PORT_RE.fullmatch(value.strip()):
        value = int(value)
    try:
        return check_port(value, key="redirect_port")  # type: ignore[arg-type]  # it checks the type
    except InvalidValueError as exc:
        errors["redirect_port"] = exc.message
        return None
