"""Fixtures: a fresh mock IdP per test (private SQLite store, frozen clock) and helpers."""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from mock_idp import create_app
from mock_idp.testing import FrozenClock, app_config, demo_seed, parse_login_form

SEED = demo_seed()
ALICE = next(u for u in SEED.users if u.username == "alice@example.com")
BOB = next(u for u in SEED.users if u.username == "bob@example.com")
CC = next(c for c in SEED.clients if c.authorized_grant_type == "CLIENT-CREDENTIALS")
IMPLICIT = next(c for c in SEED.clients if c.authorized_grant_type == "TOKEN")
PKCE = next(c for c in SEED.clients if c.authorized_grant_type == "CODE")
REDIRECT = "http://127.0.0.1:8080/callback"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app(tmp_path, clock):
    return create_app(app_config(tmp_path, CLOCK=clock))


@pytest.fixture
def client(app):
    return app.test_client()


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
