"""The seed file: users and OAuth clients in a fixed TOML shape other tools can write.

Parsing is pure (`parse_seed`) and fails with one SeedError naming the file, the
entry and the field. Secret values (passwords, client secrets) are never echoed.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client_spec import ClientSpec, ClientSpecError, check_client_id, check_secret, client_spec
from .errors import SeedError
from .models import VALIDITY_DEFAULT

_USER_FIELDS = {"id", "name", "email", "username", "password"}
_CLIENT_REQUIRED = {"id", "secret", "name", "authorized_grant_type"}
_CLIENT_OPTIONAL = {"registered_redirect_uri", "scope", "access_token_validity_seconds",
                    "roles", "description"}
# Extra user fields (title, department, ...) go into users/me as given; these names
# are the user's identity there, never overridden.
_EXTRA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_USER_RESERVED = {"selfUri", "user", "secret"}
_SECRET_FIELDS = {"password"}
# ClientSpec field -> seed key: the client rules themselves are in client_spec.py.
_SPEC_KEYS = {"name": "name", "description": "description",
              "grant_type": "authorized_grant_type", "redirect_uris": "registered_redirect_uri",
              "scope": "scope", "validity": "access_token_validity_seconds", "roles": "roles"}


@dataclass(frozen=True)
class SeedUser:
    id: str
    name: str
    email: str
    username: str
    password: str
    # Any other fields of the entry (e.g. title, department): returned by users/me.
    extra: dict[str, Any] = field(default_factory=dict, hash=False)
    # The user's rights (e.g. "admin"): a token of a login as this user has these, not its client's.
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedClient:
    id: str
    secret: str
    name: str
    authorized_grant_type: str
    registered_redirect_uri: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()
    access_token_validity_seconds: int = VALIDITY_DEFAULT
    roles: tuple[str, ...] = ()
    description: str = ""

    def spec(self) -> ClientSpec:
        return ClientSpec(self.name, self.description, self.authorized_grant_type,
                          self.registered_redirect_uri, self.scope,
                          self.access_token_validity_seconds, self.roles)


@dataclass(frozen=True)
class Seed:
    users: tuple[SeedUser, ...]
    clients: tuple[SeedClient, ...]
    digest: str  # SHA-256 of the file text: a store applies each seed once


def load_seed(path: Path) -> Seed:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"seed file {path}: cannot read it: {exc}") from None
    return parse_seed(text, str(path))


def parse_seed(text: str, source: str) -> Seed:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"seed file {source}: not valid TOML: {exc}") from None
    unknown = set(data) - {"users", "clients"}
    if unknown:
        raise SeedError(f"seed file {source}: unknown top-level key(s) {sorted(unknown)}; "
                        "expected [[users]] and [[clients]]")
    users = tuple(_user(entry, f"{source}: users[{i}]")
                  for i, entry in enumerate(_array(data, "users", source)))
    clients = tuple(_client(entry, f"{source}: clients[{i}]")
                    for i, entry in enumerate(_array(data, "clients", source)))
    _unique(source, "users", "id", [u.id for u in users])
    _unique(source, "users", "username", [u.username for u in users])
    _unique(source, "clients", "id", [c.id for c in clients])
    return Seed(users, clients, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())


def _array(data: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SeedError(f"seed file {source}: '{key}' must be an array of tables ([[{key}]])")
    return value


def _where(where: str, entry: dict[str, Any]) -> str:
    ident = entry.get("id")
    return f"seed file {where}" + (f" (id {ident!r})" if isinstance(ident, str) and ident else "")


def _fail(where: str, entry: dict[str, Any], name: str, problem: str) -> SeedError:
    error = SeedError(f"{_where(where, entry)}: field '{name}': {problem}")
    error.field = name
    return error


def _check_keys(where: str, entry: dict[str, Any], required: set[str], optional: set[str]) -> None:
    for name in sorted(required - set(entry)):
        raise _fail(where, entry, name, "missing")
    for name in sorted(set(entry) - required - optional):
        raise _fail(where, entry, name, "unknown field")


def _string(where: str, entry: dict[str, Any], name: str) -> str:
    """A user's field (users are made only by the seed: their rules live here)."""
    value = entry.get(name, "")
    if not isinstance(value, str):
        raise _fail(where, entry, name, f"must be a string, got {type(value).__name__}")
    if not value.strip():
        raise _fail(where, entry, name, "must not be empty")
    if name not in _SECRET_FIELDS and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise _fail(where, entry, name, "must not contain control characters")
    return value


def _json_value(value: Any) -> bool:
    """A TOML value JSON can carry (no dates or times)."""
    if isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, list):
        return all(_json_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_value(v) for k, v in value.items())
    return False


def _extra(where: str, entry: dict[str, Any]) -> dict[str, Any]:
    extra = {}
    for name in sorted(set(entry) - _USER_FIELDS - {"roles"}):
        if not _EXTRA_NAME.fullmatch(name) or name in _USER_RESERVED:
            raise _fail(where, entry, name, "not a field a user can have (extra fields are "
                        "names of letters, digits and _, not selfUri)")
        if not _json_value(entry[name]):
            raise _fail(where, entry, name, "must be a string, number, boolean, array or table "
                        "(no dates or times)")
        extra[name] = entry[name]
    return extra


def _user(entry: dict[str, Any], where: str) -> SeedUser:
    for name in sorted(_USER_FIELDS - set(entry)):
        raise _fail(where, entry, name, "missing")
    values = {name: _string(where, entry, name) for name in sorted(_USER_FIELDS)}
    roles = entry.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) and r.strip() for r in roles):
        raise _fail(where, entry, "roles", "must be an array of role names (strings)")
    return SeedUser(**values, extra=_extra(where, entry), roles=tuple(roles))


def _client(entry: dict[str, Any], where: str) -> SeedClient:
    _check_keys(where, entry, _CLIENT_REQUIRED, _CLIENT_OPTIONAL)
    try:
        client_id = check_client_id(entry["id"])
        spec = client_spec({field: entry[key] for field, key in _SPEC_KEYS.items() if key in entry})
        secret = check_secret(entry["secret"], spec.grant_type)
    except ClientSpecError as error:
        field = _SPEC_KEYS.get(error.field, error.field)
        raise _fail(where, entry, field, error.problem) from None
    return SeedClient(
        id=client_id, secret=secret, name=spec.name, authorized_grant_type=spec.grant_type,
        registered_redirect_uri=spec.redirect_uris, scope=spec.scope,
        access_token_validity_seconds=spec.validity, roles=spec.roles,
        description=spec.description)


def parse_seed_user(entry: dict[str, Any], where: str) -> SeedUser:
    """One [[users]] entry, validated as in a seed file (the control API's POST /mock/users)."""
    return _user(entry, where)


def parse_seed_client(entry: dict[str, Any], where: str) -> SeedClient:
    """One [[clients]] entry, validated as in a seed file (POST /mock/clients)."""
    return _client(entry, where)


def _unique(source: str, table: str, name: str, values: list[str]) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise SeedError(f"seed file {source}: {table}[{i}]: field '{name}': "
                            f"duplicate value {value!r}")
        seen.add(value)
