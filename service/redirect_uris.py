"""Redirect-URI matching, shared by the mock IdP and the client.

Genesys Cloud compares a requested redirect URI with the registered ones as
exact strings, port included (R17). RFC 8252 §7.3 lets a server accept any
port for loopback *IP literal* redirect URIs over plain http; the mock can be
switched to that rule. `localhost` gets the any-port rule only when asked for by name
(``loopback_any_port="localhost"``, the demo's setting: Genesys documents
`http://localhost:PORT`, and port 0 picks a port at login time); RFC 8252 §8.3
discourages it because the name may not resolve to the loopback interface.

Stdlib only, no I/O: safe to import from anywhere.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "AnyPortRule",
    "LOOPBACK_IP_HOSTS",
    "is_valid_redirect_uri",
    "is_loopback_ip_uri",
    "loopback_redirect_uri",
    "accepts_any_port",
    "loopback_port",
    "redirect_uri_allowed",
    "registered_loopback_ports",
]

LOOPBACK_IP_HOSTS = ("127.0.0.1", "[::1]")
#: False: exact match; True: any port for http loopback IP literals (RFC 8252 §7.3);
#: "localhost": the same for http://localhost too (the demo only)
AnyPortRule = bool | Literal["localhost"]
_LOOPBACK_NAMES = ("localhost", *LOOPBACK_IP_HOSTS)
_PORT = re.compile(r"[1-9][0-9]{0,4}")
# RFC 3986 characters only (percent-escapes well formed): no space, '"', '<', '>', '\',
# '^', '`', '{', '|', '}' or non-ASCII. Such a URI is not one a server should register,
# and Authlib's error descriptions (RFC 6749 §4.1.2.1 charset) may quote it.
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")


class _Parts(NamedTuple):
    scheme: str
    host: str  # exactly as written, brackets kept for IPv6
    port: int | None
    path: str
    query: str


def _split(uri: str) -> _Parts | None:
    """Split an absolute http(s) URI without userinfo or fragment; None if it is not one."""
    if not isinstance(uri, str) or not _URI_CHARS.fullmatch(uri) or "#" in uri:
        return None
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    netloc = parts.netloc
    if netloc.startswith("["):
        host, sep, rest = netloc.partition("]")
        host += sep
        if not sep or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else None
    else:
        host, sep, port_text = netloc.partition(":")
        port_text = port_text if sep else None
    if not host or host == "[]":
        return None
    port: int | None = None
    if port_text is not None:
        if not _PORT.fullmatch(port_text) or int(port_text) > 65535:
            return None
        port = int(port_text)
    return _Parts(parts.scheme, host, port, parts.path, parts.query)


def is_valid_redirect_uri(uri: str) -> bool:
    """True for an absolute http(s) URI with no userinfo, no fragment and a sane port."""
    return _split(uri) is not None


def is_loopback_ip_uri(uri: str) -> bool:
    """True for http://127.0.0.1[:port]/... or http://[::1][:port]/... (RFC 8252 §7.3)."""
    parts = _split(uri)
    return parts is not None and parts.scheme == "http" and parts.host in LOOPBACK_IP_HOSTS


def _any_port_hosts(rule: AnyPortRule) -> tuple[str, ...]:
    if rule == "localhost":
        return ("localhost", *LOOPBACK_IP_HOSTS)
    return LOOPBACK_IP_HOSTS if rule is True else ()


def redirect_uri_allowed(requested: str, registered: Iterable[str], *,
                         loopback_any_port: AnyPortRule = False) -> bool:
    """Whether `requested` matches one of `registered`.

    Exact string comparison (Genesys); with `loopback_any_port`, a registered
    http loopback IP literal URI (and with "localhost", an http://localhost one) also
    matches the same URI on any port.
    """
    req = _split(requested)
    if req is None:
        return False
    hosts = _any_port_hosts(loopback_any_port)
    for candidate in registered:
        if candidate == requested:
            return True
        if req.scheme == "http" and req.host in hosts:
            reg = _split(candidate)
            if reg is not None and (reg.scheme, reg.host, reg.path, reg.query) == (
                    req.scheme, req.host, req.path, req.query):
                return True
    return False


def loopback_redirect_uri(port: int, *, secure: bool = False, host: str = "localhost",
                          path: str = "") -> str:
    """The redirect URI gc prints for a loopback login: `http(s)://localhost:<port>`."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"port must be an integer from 1 to 65535, got {port!r}")
    if host not in _LOOPBACK_NAMES:
        raise ValueError(f"host must be one of {', '.join(_LOOPBACK_NAMES)}, got {host!r}")
    if path and not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")
    uri = f"{'https' if secure else 'http'}://{host}:{port}{path}"
    if _split(uri) is None:
        raise ValueError(f"path {path!r} does not make a valid redirect URI")
    return uri


def loopback_port(uri: str) -> int | None:
    """The explicit port of a loopback redirect URI (localhost, 127.0.0.1, [::1]), else None."""
    parts = _split(uri)
    if parts is None or parts.host not in _LOOPBACK_NAMES:
        return None
    return parts.port


def accepts_any_port(registered: Iterable[str], rule: AnyPortRule, *, host: str = "localhost") -> bool:
    """Whether some registered http URI on ``host`` matches on every port under ``rule``."""
    if host not in _any_port_hosts(rule):
        return False
    return any((parts := _split(uri)) is not None and parts.scheme == "http" and parts.host == host
               for uri in registered)


def registered_loopback_ports(registered: Iterable[str]) -> tuple[int, ...]:
    """The explicit ports of the registered loopback redirect URIs, ascending, each once.

    Not secret (any user of the client sees them in its redirect URI); the mock's error
    page for an unregistered redirect URI lists them.
    """
    return tuple(sorted({port for uri in registered if (port := loopback_port(uri)) is not None}))
