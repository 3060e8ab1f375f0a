"""Settings: defaults, then MOCK_IDP_* variables, then the factory's test dict.

`create_app` reads the environment once, through `Config.from_prefixed_env`;
everything here works on the resulting mapping.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service import AnyPortRule

from .errors import ConfigError

DEFAULTS: dict[str, Any] = {
    "SEED": None,                 # MOCK_IDP_SEED; None: the demo seed shipped in the package
    "DB": None,                   # MOCK_IDP_DB; None: default_db_path()
    "STORE": None,                # MOCK_IDP_STORE=redis://host:port/db: the Redis store; None: SQLite at DB
    "LOOPBACK_ANY_PORT": False,   # MOCK_IDP_LOOPBACK_ANY_PORT=1: RFC 8252 §7.3 any-port rule; localhost: +localhost
    "TOKEN_FAST_PATH": True,      # MOCK_IDP_TOKEN_FAST_PATH=0: token requests through Flask's cycle
    "CLOCK": time.time,           # tests: a callable returning epoch seconds
    "EXPOSE_WORKER_PID": False,   # tests: X-Mock-Idp-Worker header and pid in /healthz
    "CORS_ORIGINS": "*",          # MOCK_IDP_CORS_ORIGINS: comma-separated origins, or * for any
    "DB_OWNER_PID": None,         # default store keyed by this pid (python -m mock_idp: its own)
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    "MAX_FORM_PARTS": 100,
    "SHOW_DEMO_CREDENTIALS": False,  # MOCK_IDP_SHOW_DEMO_CREDENTIALS=1 (the demo): / lists the seed's users
    "CONTROL_TOKEN": None,        # MOCK_IDP_CONTROL_TOKEN: switches the /mock/ control API on; its bearer secret
}


@dataclass(frozen=True)
class Settings:
    seed: Path
    db: Path
    loopback_any_port: AnyPortRule
    token_fast_path: bool
    clock: Callable[[], float]
    expose_worker_pid: bool
    cors_origins: frozenset[str] | None  # None: any origin
    control_token: str | None = None  # None: no control API (every /mock/ path is 404)
    store: str | None = None  # a Redis URL (redis_store.py); None: the SQLite file `db`
    show_demo_credentials: bool = False  # the landing page lists the seed's users and clients


def default_seed_path() -> Path:
    return Path(str(resources.files("mock_idp") / "seed.toml"))


def default_db_path(owner_pid: int | None = None) -> Path:
    """A store private to this server run but common to all its gunicorn workers.

    Workers are children of one gunicorn master, so the path is keyed by the parent
    process (pid and start time, so a reused pid gets a fresh file) in a 0700
    directory of the user's temp dir; a single-process server passes its own pid.
    Set MOCK_IDP_DB for anything else.
    """
    ppid = os.getppid() if owner_pid is None else owner_pid
    try:
        stat = Path(f"/proc/{ppid}/stat").read_text()
        started = stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        started = "0"
    return Path(tempfile.gettempdir()) / f"mock-idp-{os.getuid()}" / f"store-{ppid}-{started}.sqlite3"


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false", "yes", "no", ""):
        return value.strip().lower() in ("1", "true", "yes")
    raise ConfigError(f"MOCK_IDP_{name}: expected 1 or 0, got {value!r}")


def _any_port(value: Any) -> AnyPortRule:
    """1/0 as a flag, or ``localhost``: the any-port rule for http://localhost too (the demo)."""
    if isinstance(value, str) and value.strip().lower() == "localhost":
        return "localhost"
    try:
        return _flag("LOOPBACK_ANY_PORT", value)
    except ConfigError:
        raise ConfigError(f"MOCK_IDP_LOOPBACK_ANY_PORT: expected 1, 0 or localhost, got {value!r}") from None


def _path(name: str, value: Any) -> Path:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ConfigError(f"MOCK_IDP_{name}: expected a file path, got {value!r}")
    return Path(value).expanduser()


def _owner(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise ConfigError(f"DB_OWNER_PID: expected a process id, got {value!r}")


_ORIGIN = re.compile(r"https?://[^/\s?#@]+")


def cors_origins(value: Any) -> frozenset[str] | None:
    """MOCK_IDP_CORS_ORIGINS: `*` (or unset) for any origin, else scheme://host[:port],..."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "*")):
        return None
    if not isinstance(value, str):
        raise ConfigError(f"MOCK_IDP_CORS_ORIGINS: expected comma-separated origins, got {value!r}")
    origins = [part.strip() for part in value.split(",") if part.strip()]
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"MOCK_IDP_CORS_ORIGINS: {origin!r} is not an origin "
                              "(scheme://host[:port], no path or trailing slash), or use *")
    return frozenset(origins)
_CONTROL_TOKEN = re.compile(r"[\x21-\x7e]+")


def _control_token(value: Any) -> str | None:
    """The control API's bearer secret; unset or empty: the API is off."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        # from_prefixed_env reads values as JSON: 12345 or true arrive as a number or a bool.
        raise ConfigError(f"MOCK_IDP_CONTROL_TOKEN: expected a text secret, got {type(value).__name__} "
                          "(a value made of digits only, or true/false, reads as JSON: add letters)")
    if not _CONTROL_TOKEN.fullmatch(value):
        raise ConfigError("MOCK_IDP_CONTROL_TOKEN: expected printable ASCII without spaces "
                          "(it is sent as an HTTP bearer token)")
    return value


_STORE_SCHEMES = ("redis", "rediss", "unix")


def _store(value: Any) -> str | None:
    """MOCK_IDP_STORE: a Redis URL (redis://, rediss://, unix://); unset or empty: SQLite."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in _STORE_SCHEMES or (
            urlsplit(value).scheme != "unix" and not urlsplit(value).hostname):
        shown = value if isinstance(value, str) and "@" not in value else "(the value given)"
        raise ConfigError(f"MOCK_IDP_STORE: expected redis://host:port/db, rediss://... or "
                          f"unix:///path/to/redis.sock, got {shown}")
    return value


def settings(config: Mapping[str, Any]) -> Settings:
    clock = config.get("CLOCK", time.time)
    if not callable(clock):
        raise ConfigError(f"CLOCK: expected a callable returning epoch seconds, got {clock!r}")
    seed = config.get("SEED")
    db = config.get("DB")
    return Settings(
        seed=_path("SEED", seed) if seed is not None else default_seed_path(),
        db=_path("DB", db) if db is not None else default_db_path(_owner(config.get("DB_OWNER_PID"))),
        loopback_any_port=_any_port(config.get("LOOPBACK_ANY_PORT", False)),
        token_fast_path=_flag("TOKEN_FAST_PATH", config.get("TOKEN_FAST_PATH", True)),
        clock=clock,
        expose_worker_pid=_flag("EXPOSE_WORKER_PID", config.get("EXPOSE_WORKER_PID", False)),
        cors_origins=cors_origins(config.get("CORS_ORIGINS", "*")),
        control_token=_control_token(config.get("CONTROL_TOKEN")),
        store=_store(config.get("STORE")),
        show_demo_credentials=_flag("SHOW_DEMO_CREDENTIALS", config.get("SHOW_DEMO_CREDENTIALS", False)),
    )


def default_state_dir() -> Path:
    """Where the TLS mode keeps its CA across restarts (XDG state directory)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mock-idp"


def tls_environment(environ: Mapping[str, str]) -> tuple[str | None, Path]:
    """MOCK_IDP_TLS_DOMAIN (unset: plain HTTP) and MOCK_IDP_STATE_DIR, for gunicorn and
    compose; `python -m mock_idp` takes the same as --domain and --state-dir."""
    domain = environ.get("MOCK_IDP_TLS_DOMAIN", "").strip() or None
    state = environ.get("MOCK_IDP_STATE_DIR", "").strip()
    return domain, (Path(state).expanduser() if state else default_state_dir())
