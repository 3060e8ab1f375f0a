"""Where a profile logs in and calls the API: region → domain → base URLs (REFERENCE §5).

An environment is a Genesys domain (``mypurecloud.com``: login at ``https://login.<domain>``,
API at ``https://api.<domain>``), an AWS region name mapped to its domain, or a base URL
``http(s)://host[:port]`` serving both (the mock IdP, the compose demo). Plain http is
allowed only for loopback hosts or with an explicit insecure opt-in (R11).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from types import MappingProxyType
from collections.abc import Mapping
from urllib.parse import urlsplit

from .errors import InvalidValueError

DEFAULT_ENVIRONMENT = "mypurecloud.com"

REGIONS: Mapping[str, str] = MappingProxyType({
    "us-east-1": "mypurecloud.com",
    "us-east-2": "use2.us-gov-pure.cloud",
    "us-west-2": "usw2.pure.cloud",
    "ca-central-1": "cac1.pure.cloud",
    "sa-east-1": "sae1.pure.cloud",
    "mx-central-1": "mxc1.pure.cloud",
    "eu-west-1": "mypurecloud.ie",
    "eu-west-2": "euw2.pure.cloud",
    "eu-central-1": "mypurecloud.de",
    "eu-central-2": "euc2.pure.cloud",
    "eusc-de-east-1": "edee1.eusc-pure.cloud",
    "me-central-1": "mec1.pure.cloud",
    "ap-south-1": "aps1.pure.cloud",
    "ap-southeast-1": "apse1.pure.cloud",
    "ap-southeast-2": "mypurecloud.com.au",
    "ap-northeast-1": "mypurecloud.jp",
    "ap-northeast-2": "apne2.pure.cloud",
    "ap-northeast-3": "apne3.pure.cloud",
})

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})+$")
_REGION_LIKE_RE = re.compile(r"^[a-z]{2,5}(-[a-z0-9]+)+-?\d*$")


@dataclass(frozen=True)
class Endpoints:
    """The resolved URLs of one environment; a login is bound to one of these (R26)."""

    environment: str
    login_url: str
    api_url: str

    @property
    def authorize_url(self) -> str:
        return self.login_url + "/oauth/authorize"

    @property
    def token_url(self) -> str:
        return self.login_url + "/oauth/token"

    def api(self, path: str) -> str:
        """Absolute API URL for a path such as ``/api/v2/users/me``."""
        return self.api_url + "/" + path.lstrip("/")


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (brackets allowed)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str | None) -> str:
    """``scheme://host[:port]`` of a URL, for messages and allow-lists; "" if it has none."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


_ID_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789.-")


def issuer_id(login_url: str) -> str:
    """Pure: one path segment per issuer (host and port of its login URL), for redirect
    URIs that say which authorization server a response comes back from (mix-up, R26).

    ``login.mypurecloud.com``, ``127.0.0.1_8081``. A byte a host name cannot hold (IPv6
    colons, non-ASCII) becomes ``~`` and two hex digits, and ``_`` starts the port (left
    out only for https on 443): two issuers never share an id, and every character is
    unreserved, so no browser rewrites it.
    """
    parts = urlsplit(login_url)
    host = (parts.hostname or "").lower()
    ident = "".join(chr(b) if b in _ID_CHARS else f"~{b:02x}" for b in host.encode("utf-8"))
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    return ident if https and port == 443 else f"{ident}_{port}"


def normalize_environment(value: str) -> str:
    """The value to store in a profile: region names become domains; URLs lose a trailing /.

    Raises InvalidValueError (key ``environment``) for unknown regions and garbage.
    """
    text = value.strip()
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")):
        _parse_base_url(text)
        return text.rstrip("/")
    if lowered in REGIONS:
        return REGIONS[lowered]
    if _DOMAIN_RE.match(lowered):
        return lowered
    if _REGION_LIKE_RE.match(lowered):
        raise InvalidValueError("environment", f"unknown region {value!r}; the regions are {', '.join(REGIONS)}")
    raise InvalidValueError(
        "environment", f"{value!r} is neither a Genesys domain, a region name nor a http(s) base URL")


def resolve(environment: str, *, insecure: bool = False) -> Endpoints:
    """Login and API base URLs for an environment (domain, region or base URL).

    Plain http is refused unless the host is loopback or ``insecure`` is set (R11).
    """
    env = normalize_environment(environment or DEFAULT_ENVIRONMENT)
    if env.lower().startswith(("http://", "https://")):
        scheme, host = _parse_base_url(env)
        if scheme == "http" and not insecure and not is_loopback_host(host):
            raise InvalidValueError(
                "environment",
                f"{env} uses plain http to a non-loopback host; use https (the CLI allows plain "
                "http with --insecure, e.g. gclogin profiles new --insecure)")
        return Endpoints(environment=env, login_url=env, api_url=env)
    return Endpoints(environment=env, login_url=f"https://login.{env}", api_url=f"https://api.{env}")


def _parse_base_url(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise InvalidValueError("environment", f"{url!r} is not a valid base URL") from None
    del port
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidValueError("environment", f"{url!r} is not a valid base URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidValueError(
            "environment", f"{url!r}: a base URL is scheme://host[:port] only (no path, query or credentials)")
    return parts.scheme.lower(), parts.hostname
