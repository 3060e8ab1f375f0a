"""The bench's own world: a seed for the mock IdP and a config.toml with gc's keys.

Everything is generated per run into a private 0700 directory, so no bench credential
is shared with the demo seed or with a developer's ~/.gc.
"""
from __future__ import annotations

import json
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomlkit

PROFILES = {"implicit": ("bench-implicit", "TOKEN", "2"), "pkce": ("bench-pkce", "CODE", "3")}


@dataclass(frozen=True)
class World:
    """Credentials and ports one bench run uses."""

    root: Path
    username: str
    password: str
    cc_client_id: str
    cc_secret: str
    redirect_port: int

    @property
    def seed(self) -> Path:
        return self.root / "seed.toml"

    @property
    def db(self) -> Path:
        return self.root / "idp.sqlite3"

    @property
    def config(self) -> Path:
        return self.root / "gc" / "config.toml"

    @property
    def home(self) -> Path:
        return self.root / "home"


def make_world(root: Path, redirect_port: int) -> World:
    """Fresh random credentials under root (which the caller made 0700)."""
    world = World(root=root, username="bench@example.com", password=secrets.token_urlsafe(12),
                  cc_client_id="bench-cc-" + secrets.token_hex(4),
                  cc_secret=secrets.token_urlsafe(24), redirect_port=redirect_port)
    world.home.mkdir(mode=0o700, exist_ok=True)
    _write_private(world.seed, seed_toml(world))
    world.config.parent.mkdir(mode=0o700, exist_ok=True)
    _write_private(world.config, config_toml(world, environment="http://127.0.0.1:1"))
    return world


def client_id(flow: str) -> str:
    return f"bench-{flow}-client"


def seed_toml(world: World) -> str:
    """The mock's seed, in the shape mock_idp documents."""
    doc = tomlkit.document()
    users = tomlkit.aot()
    users.append(tomlkit.item({"id": "00000000-0000-4000-8000-00000000b3c0",
                               "name": "Bench User", "email": world.username,
                               "username": world.username, "password": world.password}))
    doc["users"] = users
    clients = tomlkit.aot()
    clients.append(tomlkit.item({
        "id": world.cc_client_id, "secret": world.cc_secret, "name": "bench client credentials",
        "authorized_grant_type": "CLIENT-CREDENTIALS", "registered_redirect_uri": [],
        "scope": [], "access_token_validity_seconds": 86400}))
    redirects = [f"http://localhost:{world.redirect_port}", f"http://127.0.0.1:{world.redirect_port}"]
    for flow, (_name, grant, _gc) in PROFILES.items():
        clients.append(tomlkit.item({
            "id": client_id(flow), "secret": "", "name": f"bench {flow}",
            "authorized_grant_type": grant, "registered_redirect_uri": redirects,
            "scope": [], "access_token_validity_seconds": 86400}))
    doc["clients"] = clients
    return tomlkit.dumps(doc)


def config_toml(world: World, environment: str) -> str:
    """A gc config.toml with one profile per browser flow, using gc's key names."""
    doc = tomlkit.document()
    for flow, (name, _grant, gc_grant) in PROFILES.items():
        table = tomlkit.table()
        table["grant_type"] = gc_grant
        table["client_credentials"] = client_id(flow)
        table["client_secret"] = ""
        table["environment"] = environment
        table["redirect_uri"] = f"http://localhost:{world.redirect_port}"
        table["secure_login_enabled"] = False
        doc[name] = table
    return tomlkit.dumps(doc)


def point_config_at(world: World, environment: str) -> None:
    """Rewrite the config for the running mock's base URL (no cached tokens)."""
    _write_private(world.config, config_toml(world, environment))


def drop_token(config: Path, profile: str) -> None:
    """Forget a profile's cached token so the next login starts from nothing."""
    doc = tomlkit.parse(config.read_text(encoding="utf-8"))
    doc[profile].pop("oauth_token_data", None)  # type: ignore[union-attr]
    _write_private(config, tomlkit.dumps(doc))


def cached_token(config: Path, profile: str) -> str:
    """The access token a login cached in the profile, or "" when there is none."""
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    raw = data.get(profile, {}).get("oauth_token_data") or ""
    try:
        return json.loads(raw).get("access_token") or "" if raw else ""
    except (ValueError, AttributeError):
        return ""


def _write_private(path: Path, text: str) -> None:
    """0600 from the first byte, swapped in by rename (the CLI may be reading it)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(path)
