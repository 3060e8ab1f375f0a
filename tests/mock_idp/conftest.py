"""Fixtures: a fresh mock IdP per test (frozen clock) and helpers.

`app` runs every test that uses it on both store engines (`store_engine`): a private
SQLite file, and a Redis database flushed for the test (one redis-server per session,
so the Redis runs are marked slow). A module whose tests are about one engine
overrides `store_engine`.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import redis

from devtools.redis_server import RedisServer
from mock_idp import create_app
from mock_idp.testing import FrozenClock, app_config, demo_seed, parse_login_form

SEED = demo_seed()
ALICE = next(u for u in SEED.users if u.username == "alice@example.com")
BOB = next(u for u in SEED.users if u.username == "bob@example.com")
CC = next(c for c in SEED.clients if c.authorized_grant_type == "CLIENT-CREDENTIALS")
IMPLICIT = next(c for c in SEED.clients if c.authorized_grant_type == "TOKEN")
PKCE = next(c for c in SEED.clients if c.authorized_grant_type == "CODE")
REDIRECT = "http://127.0.0.1:8080/callback/127.0.0.1_8081"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server per session (a unix socket in a temp dir), stopped at the end."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.slow)])
def store_engine(request) -> str:
    return request.param


@pytest.fixture
def store_config(request, store_engine) -> dict:
    """create_app settings selecting the engine: nothing for SQLite, an empty Redis db."""
    if store_engine == "sqlite":
        return {}
    server = request.getfixturevalue("redis_server")
    if server.proc is None:  # a failure test stopped it and did not get to restart it
        server.start()
    server.flush()
    return {"STORE": server.url}


@pytest.fixture
def app(tmp_path, clock, store_config):
    app = create_app(app_config(tmp_path, CLOCK=clock, **store_config))
    yield app
    app.extensions["mock_idp"].store.close()


@pytest.fixture
def client(app):
    return app.test_client()


def stored_bytes(app) -> bytes:
    """Everything the app's store holds, as bytes: the SQLite files, or every Redis value."""
    settings = app.extensions["mock_idp"].settings
    if settings.store is None:
        db = Path(settings.db)
        return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    conn = redis.Redis.from_url(settings.store)
    try:
        parts = []
        for key in conn.scan_iter():
            kind = conn.type(key)
            values = ([conn.get(key)] if kind == b"string" else
                      [b"".join(kv) for kv in conn.hgetall(key).items()] if kind == b"hash" else
                      list(conn.smembers(key)) if kind == b"set" else None)
            assert values is not None, f"a Redis {kind!r} the test cannot read: {key!r}"
            parts += [key, *values]
        return b"".join(parts)
    finally:
        conn.close()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cc_token(client, client_id: str = CC.id, secret: str = CC.secret) -> str:
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client_id, secret))
    assert response.status_code == 200, response.json
    return response.json["access_token"]


@dataclass
class Login:
    """Drives the login form the way a browser would."""
    client: object

    def start(self, **params):
        return self.client.get("/oauth/authorize", query_string=params)

    def submit(self, page, username=ALICE.username, password=ALICE.password, **extra):
        form = parse_login_form(page.get_data(as_text=True))
        data = {**form.fields, "username": username, "password": password, **extra}
        return self.client.post(form.action, data=data)

    def run(self, username=ALICE.username, password=ALICE.password, **params):
        page = self.start(**params)
        assert page.status_code == 200, page.get_data(as_text=True)
        return self.submit(page, username, password)


@pytest.fixture
def login(client) -> Login:
    return Login(client)


def implicit_params(**overrides) -> dict[str, str]:
    return {"response_type": "token", "client_id": IMPLICIT.id, "redirect_uri": REDIRECT,
            "state": "s-" + secrets.token_hex(8), **overrides}


def code_params(challenge: str, **overrides) -> dict[str, str]:
    return {"response_type": "code", "client_id": PKCE.id, "redirect_uri": REDIRECT,
            "state": "s-" + secrets.token_hex(8), "code_challenge": challenge,
            "code_challenge_method": "S256", **overrides}


def fragment(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
