"""Fixtures for the web service: an app on a temporary config, a client, and a CSRF-aware helper."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service import create_app

IDP = "http://127.0.0.1:9"  # nothing listens there; tests that need an IdP start one


class BrowserClient(FlaskClient):
    """Flask's test client at the service's public URL (the one host name it serves pages
    under), sending what every browser sends on a same-origin form POST."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.public_url = self.application.config["PUBLIC_URL"]
        self.environ_base["HTTP_ORIGIN"] = self.public_url

    def open(self, *args, **kwargs):
        if not args or isinstance(args[0], str):
            kwargs.setdefault("base_url", self.public_url)
        return super().open(*args, **kwargs)


def make_app(tmp_path: Path, **overrides):
    config = {"TESTING": True, "CONFIG_PATH": str(tmp_path / "gc" / "config.toml"),
              "SECRET_KEY": "test-secret-key-" + "x" * 32, "PUBLIC_URL": "http://127.0.0.1:8080",
              "IDP_URL": IDP, "IDP_RETRIES": 0}
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = BrowserClient
    return app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


class Forms:
    """Submits forms the way a browser does: with the page's CSRF token."""

    def __init__(self, client) -> None:
        self.client = client

    def token(self, path: str = "/profiles/new") -> str:
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict, token_from: str = "/profiles/new"):
        return self.client.post(path, data={"csrf_token": self.token(token_from), **data})

    def new_profile(self, **fields):
        data = {"name": "web", "environment": IDP, "grant_type": "1", "client_id": "cid",
                "client_secret": "s3cret-value", "redirect_port": "0"}
        data.update(fields)
        return self.post("/profiles/new", data)


@pytest.fixture
def forms(client):
    return Forms(client)


def write_config(app, text: str) -> None:
    path = Path(app.config["CONFIG_PATH"])
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
