"""The web service's configuration, read from the environment in this one place.

Layers: defaults, then ``SERVICE_*`` (Flask's ``from_prefixed_env``) plus
``GCLOGIN_CONFIG`` and ``GENESYSCLOUD_*`` (the same variables the CLI honours), then
the dict passed to ``create_app`` (tests). A missing secret key is generated once and
kept 0600 beside config.toml so every gunicorn worker signs sessions alike.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from service.config_store import default_config_path
from service.private_files import open_private, own_private_file, owned_private_dir

GENESYSCLOUD_VARIABLES = ("GENESYSCLOUD_REGION", "GENESYSCLOUD_OAUTHCLIENT_ID",
                          "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_ACCESS_TOKEN")

DEFAULTS: dict[str, Any] = {
    "PUBLIC_URL": "http://localhost:8080",
    "IDP_URL": None,             # server-side base URL of the mock IdP (compose: http://idp:8081)
    "IDP_PUBLIC_URL": None,      # browser-facing one; defaults to IDP_URL
    "CONFIG_PATH": None,         # config.toml; as the CLI: $GCLOGIN_CONFIG or ~/.gc/config.toml
    "GENESYSCLOUD": {},          # GENESYSCLOUD_* overrides, as in gc
    "HTTP_TIMEOUT": 10.0,        # seconds per request to the IdP
    "IDP_RETRIES": 4,            # bounded retries of connection failures (compose start order)
    "IDP_RETRY_DELAY": 0.25,     # first backoff delay, doubled each time
    "AUTHORIZE_PREFLIGHT": True,  # send the authorize request first (service.preflight); 0: don't
    "PENDING_LOGIN_TTL": 600,    # seconds a started browser login stays valid
    "PENDING_DB": None,          # SQLite file of pending logins; default beside config.toml
    "SECRET_KEY_FILE": None,     # default beside config.toml
    "ALLOWED_HOSTS": (),         # more Host names than the public URL's (comma-separated)
    "ALLOWED_ENVIRONMENTS": (),  # environments besides Genesys's and IDP_URL (comma-separated; * any)
}


def load(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill app.config from defaults, the environment and overrides, then derive the rest."""
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("SERVICE")
    app.config["CONFIG_PATH"] = default_config_path(os.environ)  # GCLOGIN_CONFIG, as the CLI
    app.config["GENESYSCLOUD"] = {name: os.environ[name] for name in GENESYSCLOUD_VARIABLES
                                  if os.environ.get(name)}
    if overrides:
        app.config.update(overrides)
    _derive(app)


def _derive(app: Flask) -> None:
    cfg = app.config
    cfg["CONFIG_PATH"] = Path(cfg["CONFIG_PATH"] or default_config_path({})).expanduser()
    state_dir = cfg["CONFIG_PATH"].parent
    for key in ("PUBLIC_URL", "IDP_URL", "IDP_PUBLIC_URL"):
        if cfg.get(key):
            cfg[key] = _base_url(key, str(cfg[key]))
    cfg["IDP_PUBLIC_URL"] = cfg["IDP_PUBLIC_URL"] or cfg["IDP_URL"]
    for key in ("ALLOWED_HOSTS", "ALLOWED_ENVIRONMENTS"):
        values = cfg[key].split(",") if isinstance(cfg[key], str) else cfg[key]
        cfg[key] = frozenset(str(v).strip().rstrip("/").lower() for v in values if str(v).strip())
    cfg["PENDING_DB"] = Path(cfg["PENDING_DB"] or state_dir / "web-pending.sqlite3")
    secure = cfg["PUBLIC_URL"].startswith("https://")
    cfg.update(
        SESSION_COOKIE_NAME="__Host-gclogin_web" if secure else "gclogin_web",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PREFERRED_URL_SCHEME="https" if secure else "http",
    )
    if not cfg.get("SECRET_KEY"):
        key_file = Path(cfg["SECRET_KEY_FILE"] or state_dir / "web-secret.key")
        cfg["SECRET_KEY"] = load_or_create_secret(key_file)


def _base_url(key: str, value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"SERVICE_{key}: expected an http(s) base URL, got {value!r}")
    return value.strip().rstrip("/")


def load_or_create_secret(path: Path) -> str:
    """Read the key file, or create it atomically (0600 in a 0700 directory, R28).

    Concurrent workers race on ``os.link``: exactly one wins, the others read its key.
    """
    with contextlib.suppress(FileNotFoundError):
        return _read_secret(path)
    owned_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = open_private(tmp)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    if not path.exists():
        raise FileNotFoundError(path)
    owned_private_dir(path.parent)
    fd = own_private_file(path, os.O_RDONLY)  # ours, 0600, not through a symlink
    with os.fdopen(fd) as fh:
        value = fh.read().strip()
    if len(value) < 32:
        raise ValueError(f"{path}: secret key too short (need at least 32 characters)")
    return value
