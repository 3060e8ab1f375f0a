"""A client's writable fields and the one place the mock's client rules are checked.

The seed loader (TOML keys) and the admin API (Genesys JSON keys) only map their names
onto these fields and turn a ClientSpecError, which names the field, into their own
error. Pure: no I/O.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service import is_valid_redirect_uri

from .models import GRANT_TYPES, VALIDITY_DEFAULT, VALIDITY_MAX, VALIDITY_MIN

MAX_NAME, MAX_DESCRIPTION = 200, 1000
_CLIENT_ID = re.compile(r"[\x20-\x7e]+")  # RFC 6749 Appendix A.1: VSCHAR


@dataclass(frozen=True)
class ClientSpec:
    """The writable fields of a client (admin API and seed)."""
    name: str
    description: str
    grant_type: str
    redirect_uris: tuple[str, ...]
    scope: tuple[str, ...]
    validity: int
    roles: tuple[str, ...]


class ClientSpecError(ValueError):
    """One bad field: `field` is a ClientSpec field name (or "id", "secret")."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def client_spec(values: Mapping[str, Any]) -> ClientSpec:
    """Check raw values keyed by ClientSpec field name (optional ones may be absent).

    Raises ClientSpecError for the first bad field, in a fixed order; the problem
    never echoes anything but a redirect URI, a grant type or a validity.
    """
    grant = _required(values, "grant_type")
    if grant not in GRANT_TYPES:
        raise ClientSpecError("grant_type", f"must be one of {', '.join(GRANT_TYPES)}, "
                                            f"got {_shown(grant)}")
    uris = _strings(values, "redirect_uris")
    for uri in uris:
        if not is_valid_redirect_uri(uri):
            raise ClientSpecError("redirect_uris", f"{uri!r} is not an absolute http(s) URI "
                                                   "without userinfo or fragment")
    if grant != "CLIENT-CREDENTIALS" and not uris:
        raise ClientSpecError("redirect_uris",
                              f"a {grant} client needs at least one redirect URI")
    validity = values.get("validity", VALIDITY_DEFAULT)
    if isinstance(validity, bool) or not isinstance(validity, int) \
            or not VALIDITY_MIN <= validity <= VALIDITY_MAX:
        raise ClientSpecError("validity", f"must be an integer from {VALIDITY_MIN} to "
                                          f"{VALIDITY_MAX}, got {_shown(validity)}")
    return ClientSpec(
        name=_text("name", _required(values, "name"), limit=MAX_NAME, empty_ok=False),
        description=_text("description", values.get("description", ""),
                          limit=MAX_DESCRIPTION, empty_ok=True),
        grant_type=grant, redirect_uris=uris, scope=_strings(values, "scope"),
        validity=validity, roles=_strings(values, "roles"))


def check_client_id(value: Any) -> str:
    """A client id chosen by a seed (the admin API makes its own)."""
    if not isinstance(value, str):
        raise ClientSpecError("id", f"must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ClientSpecError("id", "must not be empty")
    if not _CLIENT_ID.fullmatch(value):
        raise ClientSpecError("id", "must be printable ASCII (RFC 6749 Appendix A.1: "
                                    "client_id is VSCHAR, %x20-7E)")
    return value


def check_secret(value: Any, grant_type: str) -> str:
    """A secret chosen by a seed (the admin API makes its own); never echoed."""
    if not isinstance(value, str):
        raise ClientSpecError("secret", f"must be a string, got {type(value).__name__}")
    if grant_type == "CLIENT-CREDENTIALS" and not value:
        raise ClientSpecError("secret", "a CLIENT-CREDENTIALS client needs a secret")
    return value


def _shown(value: Any) -> str:
    """A short scalar as written; anything else by its type, so errors stay one line."""
    if isinstance(value, (str, int, float, bool)) and len(repr(value)) <= 40 or value is None:
        return repr(value)
    return f"a {type(value).__name__}"


def _required(values: Mapping[str, Any], field: str) -> Any:
    if field not in values:
        raise ClientSpecError(field, "is required")
    return values[field]


def _text(field: str, value: Any, *, limit: int, empty_ok: bool) -> str:
    if not isinstance(value, str):
        raise ClientSpecError(field, f"must be a string, got {type(value).__name__}")
    if not empty_ok and not value.strip():
        raise ClientSpecError(field, "must not be empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ClientSpecError(field, "must not contain control characters")
    if len(value) > limit:
        raise ClientSpecError(field, f"must be at most {limit} characters")
    return value


def _strings(values: Mapping[str, Any], field: str) -> tuple[str, ...]:
    value = values.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ClientSpecError(field, "must be an array of non-empty strings")
    return tuple(value)
