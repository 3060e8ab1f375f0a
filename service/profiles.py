"""A profile value and its pure mapping to and from one TOML table of gc's config.toml.

Keys are gc's (REFERENCE §3), so a file written by gc works here and vice versa. The
mapping edits a tomlkit table in place and only touches keys whose value changed, which
keeps comments, key order, unknown keys and every other profile byte-for-byte intact.
"""
from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, UTC
from typing import Any
from collections.abc import Mapping
from urllib.parse import urlsplit

import tomlkit
from tomlkit.container import Container
from tomlkit.items import Table

from .environments import is_loopback_host, normalize_environment
from .errors import InvalidValueError
from .redirect_uris import is_valid_redirect_uri
from .untrusted import clean_secret

DEFAULT_PROFILE = "DEFAULT"
#: names `profiles new` gives new profiles (safe in URLs, shells and file names)
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: longest profile name read or written at all
MAX_STORED_NAME = 128
MASK = "********"
#: a cached token is considered expired this long before its real expiry
EXPIRY_SKEW = timedelta(seconds=30)


class GrantType(str, enum.Enum):  # noqa: UP042 - str() and f-strings give the member name
    """gc's grant_type values (stored as the strings "0".."3")."""

    NONE = "0"
    CLIENT_CREDENTIALS = "1"
    IMPLICIT = "2"
    PKCE = "3"

    @property
    def label(self) -> str:
        return _GRANT_LABELS[self]

    @property
    def is_browser(self) -> bool:
        return self in (GrantType.IMPLICIT, GrantType.PKCE)


_GRANT_LABELS = {
    GrantType.NONE: "None",
    GrantType.CLIENT_CREDENTIALS: "Client Credentials",
    GrantType.IMPLICIT: "Implicit Grant",
    GrantType.PKCE: "PKCE Grant",
}
_GRANT_ALIASES = {
    "none": GrantType.NONE, "client-credentials": GrantType.CLIENT_CREDENTIALS,
    "client_credentials": GrantType.CLIENT_CREDENTIALS, "implicit": GrantType.IMPLICIT,
    "pkce": GrantType.PKCE,
}


def parse_grant_type(value: str | int, key: str = "grant_type") -> GrantType:
    """Accept "0".."3" or none/client-credentials/implicit/pkce; otherwise name ``key``."""
    text = str(value).strip().lower()
    if text in _GRANT_ALIASES:
        return _GRANT_ALIASES[text]
    try:
        return GrantType(text)
    except ValueError:
        raise InvalidValueError(
            key, f"unknown grant type {str(value)!r} (use 0-3 or none, client-credentials, implicit, pkce)"
        ) from None


@dataclass(frozen=True)
class TokenData:
    """gc's ``oauth_token_data``: the cached token and its expiry (RFC 3339 in the file)."""

    access_token: str = field(default="", repr=False)  # never in a repr, log or traceback (R25)
    token_type: str = ""
    expires_in: int = 0
    error: str = ""
    expiry: datetime | None = None

    def __post_init__(self) -> None:
        _clean_secrets(self, ("access_token",))

    def is_valid(self, now: datetime | None = None) -> bool:
        """Usable now: a token, no error, and not within EXPIRY_SKEW of its expiry."""
        now = now or datetime.now(UTC)
        return bool(self.access_token) and not self.error and self.expiry is not None \
            and now < self.expiry - EXPIRY_SKEW

    def to_json(self) -> str:
        return json.dumps({
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "error": self.error,
            "oauth_token_expiry": format_rfc3339(self.expiry) if self.expiry else "",
        })

    @classmethod
    def from_json(cls, text: str, key: str = "oauth_token_data") -> TokenData:
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidValueError(key, "is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidValueError(key, "must be a JSON object")
        expires_in = data.get("expires_in", 0) or 0
        if not isinstance(expires_in, int) or isinstance(expires_in, bool):
            raise InvalidValueError(key, "expires_in must be an integer")
        raw_expiry = data.get("oauth_token_expiry") or ""
        for name in ("access_token", "token_type", "error"):
            if not isinstance(data.get(name, "") or "", str):
                raise InvalidValueError(key, f"{name} must be a string")
        if not isinstance(raw_expiry, str):
            raise InvalidValueError(key, "oauth_token_expiry must be an RFC 3339 string")
        return cls(
            access_token=data.get("access_token") or "",
            token_type=data.get("token_type") or "",
            expires_in=expires_in,
            error=data.get("error") or "",
            expiry=parse_rfc3339(raw_expiry, f"{key}.oauth_token_expiry") if raw_expiry else None,
        )

    @classmethod
    def issued(cls, access_token: str, token_type: str, expires_in: int | None,
               now: datetime | None = None) -> TokenData:
        """A fresh token as received now; no expires_in means 'assume one hour'."""
        now = now or datetime.now(UTC)
        lifetime = expires_in if expires_in and expires_in > 0 else 3600
        return cls(access_token=access_token, token_type=token_type, expires_in=lifetime,
                   expiry=now + timedelta(seconds=lifetime))


def format_rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 with a Z suffix (microseconds kept when present)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_FRACTION_RE = re.compile(r"(\.\d{6})\d+")


def parse_rfc3339(text: str, key: str = "oauth_token_expiry") -> datetime:
    """Parse RFC 3339 (Go writes up to nanoseconds: extra digits are dropped)."""
    try:
        moment = datetime.fromisoformat(_FRACTION_RE.sub(r"\1", text.strip()))
    except ValueError:
        raise InvalidValueError(key, f"{text!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise InvalidValueError(key, f"{text!r} has no time zone")
    return moment


@dataclass(frozen=True)
class Profile:
    """One profile. ``client_id`` is stored under gc's historical key ``client_credentials``."""

    name: str = DEFAULT_PROFILE
    grant_type: GrantType = GrantType.NONE
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    redirect_uri: str = ""
    environment: str = ""
    access_token: str = field(default="", repr=False)
    secure_login_enabled: bool = False
    token_data: TokenData | None = None
    #: plain http to a non-loopback environment allowed (R11); key ``insecure_http_enabled``
    insecure: bool = False
    #: keys we don't interpret, kept as they are (unwrapped TOML values; may hold gc's proxy_password)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: why the file's oauth_token_data could not be read ("" if it could): such a cache is
    #: only a cache, so it counts as no token (a login replaces it) instead of locking the
    #: profile. Not part of the value: saving the profile drops the unreadable cache.
    token_error: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        _clean_secrets(self, ("client_secret", "access_token"))

    @property
    def redirect_port(self) -> int:
        """Port of redirect_uri; 0 means 'pick a free port at login time'."""
        return redirect_port(self.redirect_uri) if self.redirect_uri else 0

    def with_token(self, token: TokenData | None) -> Profile:
        return replace(self, token_data=token, token_error="")


def _clean_secrets(value: object, names: tuple[str, ...]) -> None:
    """Every way a secret enters a Profile or TokenData (file, flag, form, prompt) ends here:
    surrounding whitespace is dropped, a control character inside is refused naming the key."""
    for name in names:
        raw = getattr(value, name)
        if isinstance(raw, str) and raw:
            object.__setattr__(value, name, clean_secret(name, raw))


def build_redirect_uri(port: int, secure: bool) -> str:
    """gc's shape: ``http(s)://localhost:<port>`` (REFERENCE §2)."""
    check_port(port)
    return f"{'https' if secure else 'http'}://localhost:{port}"


def check_port(port: int, key: str = "redirect_uri") -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidValueError(key, f"port {port!r} is not in 0-65535")
    return port


def redirect_port(uri: str, key: str = "redirect_uri") -> int:
    """The port of a loopback redirect URI; anything else is an error naming ``key``."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise InvalidValueError(key, f"{uri!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not is_loopback_host(parts.hostname):
        raise InvalidValueError(key, f"{uri!r} must be http(s)://localhost:<port> (a loopback host)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidValueError(key, f"{uri!r} must not have a path, query or fragment")
    # port 0 is gc's "pick one at login time"; any real port must pass the shared matcher's rules
    if port and not is_valid_redirect_uri(uri):
        raise InvalidValueError(key, f"{uri!r} is not a valid redirect URI")
    return 0 if port is None else port


# --- the TOML mapping -------------------------------------------------------------

_STR_KEYS = {  # TOML key -> Profile field
    "client_credentials": "client_id",
    "client_secret": "client_secret",
    "redirect_uri": "redirect_uri",
    "environment": "environment",
    "access_token": "access_token",
}
_BOOL_KEYS = {"secure_login_enabled": "secure_login_enabled", "insecure_http_enabled": "insecure"}
KNOWN_KEYS = frozenset({"grant_type", "oauth_token_data", *_STR_KEYS, *_BOOL_KEYS})


def check_name(name: str) -> str:
    """A name for a new profile: 1-64 of A-Z a-z 0-9 _ - (what `profiles new` offers)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidValueError("name", f"profile name {name!r} must be 1-64 of A-Z a-z 0-9 _ -")
    return name


def check_stored_name(name: str) -> str:
    """A name the loader reads and set_profile writes: the same rule for both.

    gc writes any name it is given ("my org"), and tomlkit quotes any key, so every
    printable name up to MAX_STORED_NAME works; control characters are refused because
    the name is printed in messages and listings.
    """
    if not isinstance(name, str) or not name or len(name) > MAX_STORED_NAME or not name.isprintable() \
            or name != name.strip():
        raise InvalidValueError(
            "name", f"profile name {name!r} must be 1-{MAX_STORED_NAME} printable characters "
                    "without leading or trailing spaces")
    return name


def profile_from_table(name: str, table: Mapping[str, Any]) -> Profile:
    """Read one profile table; an invalid value raises InvalidValueError naming its key."""
    values = _unwrap(table)
    if not isinstance(values, dict):
        raise InvalidValueError(name, "is not a table", profile=name)
    try:
        kwargs: dict[str, Any] = {"name": check_stored_name(name)}
        if "grant_type" in values:
            raw = values["grant_type"]
            if not isinstance(raw, (str, int)) or isinstance(raw, bool) or str(raw) not in ("0", "1", "2", "3"):
                raise InvalidValueError("grant_type", f"must be \"0\", \"1\", \"2\" or \"3\", not {raw!r}")
            kwargs["grant_type"] = GrantType(str(raw))
        for key, attr in _STR_KEYS.items():
            if key in values:
                if not isinstance(values[key], str):
                    raise InvalidValueError(key, f"must be a string, not {_describe(key, values[key])}")
                kwargs[attr] = values[key]
        for key, attr in _BOOL_KEYS.items():
            if key in values:
                if not isinstance(values[key], bool):
                    raise InvalidValueError(key, f"must be true or false, not {_describe(key, values[key])}")
                kwargs[attr] = values[key]
        if kwargs.get("redirect_uri"):
            redirect_port(kwargs["redirect_uri"])
        if kwargs.get("environment"):
            normalize_environment(kwargs["environment"])
        kwargs["token_data"], kwargs["token_error"] = read_token_data(values.get("oauth_token_data"))
        kwargs["extra"] = {k: v for k, v in values.items() if k not in KNOWN_KEYS}
    except InvalidValueError as exc:
        raise InvalidValueError(exc.key, exc.message, profile=name) from None
    return Profile(**kwargs)


def read_token_data(raw: Any) -> tuple[TokenData | None, str]:
    """(cached token or None, why it could not be read or "") for an oauth_token_data value.

    An unreadable cache is reported, not raised: the profile stays usable (R25: the
    reason never quotes the token).
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ""
    try:
        if not isinstance(raw, str):
            raise InvalidValueError("oauth_token_data", "must be a JSON string")
        return TokenData.from_json(raw), ""
    except InvalidValueError as exc:
        return None, str(exc)


def profile_to_table(profile: Profile, table: Table | None = None) -> Table:
    """Write a profile into ``table`` (a new one if None), touching only changed keys."""
    table = table if table is not None else tomlkit.table()
    wanted: dict[str, Any] = {"grant_type": profile.grant_type.value}
    for key, attr in _STR_KEYS.items():
        wanted[key] = getattr(profile, attr)
    for key, attr in _BOOL_KEYS.items():
        wanted[key] = getattr(profile, attr)
    wanted["oauth_token_data"] = profile.token_data.to_json() if profile.token_data else ""
    defaults = {"grant_type": None, "oauth_token_data": "", "secure_login_enabled": False,
                "insecure_http_enabled": False, **{k: "" for k in _STR_KEYS}}
    for key, value in wanted.items():
        if key in table:
            if _unwrap(table[key]) != value or type(_unwrap(table[key])) is not type(value):
                table[key] = value
        elif value != defaults[key]:
            table[key] = value
    for key in [k for k in table if k not in KNOWN_KEYS and k not in profile.extra]:
        del table[key]
    for key, value in profile.extra.items():
        if key not in table or _unwrap(table[key]) != value:
            table[key] = value
    return table


def load_profiles(doc: Container) -> dict[str, Profile]:
    """Every profile (top-level table) in a parsed config document."""
    return {name: profile_from_table(name, item) for name, item in doc.items()
            if isinstance(item, (Table, dict))}


def set_profile(doc: Container, profile: Profile) -> None:
    """Add or update one profile in place; other profiles' bytes are not touched.

    Any name profile_from_table accepts is accepted here (check_stored_name), so a token
    can be cached in every profile that loads.
    """
    check_stored_name(profile.name)
    existing = doc.get(profile.name)
    if isinstance(existing, Table):
        profile_to_table(profile, existing)
    else:
        if profile.name in doc:
            del doc[profile.name]
        doc[profile.name] = profile_to_table(profile)


def remove_profile(doc: Container, name: str) -> bool:
    if name in doc:
        del doc[name]
        return True
    return False


def masked(profile: Profile) -> dict[str, Any]:
    """What `profiles get` shows: gc's keys, secrets and tokens masked (never printed)."""
    token = profile.token_data
    return {
        "name": profile.name,
        "grant_type": profile.grant_type.value,
        "grant_type_name": profile.grant_type.label,
        "environment": profile.environment,
        "client_credentials": profile.client_id,
        "client_secret": MASK if profile.client_secret else "",
        "access_token": MASK if profile.access_token else "",
        "redirect_uri": profile.redirect_uri,
        "secure_login_enabled": profile.secure_login_enabled,
        "oauth_token_data": {
            "access_token": MASK if token.access_token else "",
            "token_type": token.token_type,
            "oauth_token_expiry": format_rfc3339(token.expiry) if token.expiry else "",
            "valid": token.is_valid(),
        } if token else None,
        **({"oauth_token_data_unreadable": profile.token_error} if profile.token_error else {}),
    }


SECRET_KEYS = frozenset({"client_secret", "access_token", "oauth_token_data", "proxy_password",
                         "gateway_password"})


def _describe(key: str, value: Any) -> str:
    """A wrong value for an error message: the value itself unless the key holds a secret (R25)."""
    if key in SECRET_KEYS:
        return f"a TOML {type(value).__name__} (value not shown)"
    return repr(value)


def _unwrap(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


__all__ = [
    "DEFAULT_PROFILE", "GrantType", "KNOWN_KEYS", "MASK", "Profile", "TokenData", "build_redirect_uri",
    "check_name", "check_port", "check_stored_name", "format_rfc3339", "load_profiles", "masked", "parse_grant_type",
    "parse_rfc3339", "profile_from_table", "profile_to_table", "read_token_data", "redirect_port", "remove_profile",
    "set_profile",
]
