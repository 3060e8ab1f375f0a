"""The mock on a loopback port for Genesys's own SDKs, and a user who signs in."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest
import requests

from devtools.servers import wsgi_server
from mock_idp import create_app
from mock_idp.testing import app_config, demo_seed, parse_login_form

from .models import SDK_DIR, missing_sdk_message

SEED = demo_seed()
ALICE = next(u for u in SEED.users if u.username == "alice@example.com")
CC = next(c for c in SEED.clients if c.authorized_grant_type == "CLIENT-CREDENTIALS")
IMPLICIT = next(c for c in SEED.clients if c.authorized_grant_type == "TOKEN")
PKCE = next(c for c in SEED.clients if c.authorized_grant_type == "CODE")
TIMEOUT = 10


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory) -> Iterator[str]:
    app = create_app(app_config(tmp_path_factory.mktemp("sdk_idp")))
    with wsgi_server(app) as url:
        yield url


@pytest.fixture(scope="session")
def sdk_models() -> None:
    """The JS SDK's model declarations (tests/sdk/models.py) must be installed."""
    if not (SDK_DIR / "index.d.ts").exists():
        pytest.fail(missing_sdk_message(), pytrace=False)


@dataclass
class User:
    """Signs in on the mock's login form as a browser would; returns the redirect."""
    base: str
    session: requests.Session

    def sign_in(self, authorize_url: str, username: str = ALICE.username,
                password: str = ALICE.password) -> str:
        page = self.session.get(authorize_url, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        form = parse_login_form(page.text)
        done = self.session.post(urljoin(self.base, form.action), allow_redirects=False,
                                 data={**form.fields, "username": username, "password": password},
                                 timeout=TIMEOUT)
        assert done.status_code == 302, done.text
        return done.headers["Location"]


@pytest.fixture
def user(mock_url) -> Iterator[User]:
    with requests.Session() as session:
        yield User(mock_url, session)


def admin_token(base: str, verify: str | bool = True) -> str:
    response = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(CC.id, CC.secret), timeout=TIMEOUT, verify=verify)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]
