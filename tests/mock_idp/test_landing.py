"""GET / of the mock: what it is and its endpoints; demo credentials only when configured."""
from __future__ import annotations

import re

import pytest

from mock_idp import create_app
from mock_idp.config import ConfigError
from service import page_stylesheet

from .conftest import app_config

PASSWORD = "alice-demo-password"  # the shipped seed's


def landing(tmp_path, **config):
    return create_app(app_config(tmp_path, **config)).test_client().get("/")


def test_the_landing_page_says_what_the_mock_is_and_lists_its_endpoints(tmp_path):
    resp = landing(tmp_path)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "Mock Genesys Cloud IdP" in page and "not a real Genesys Cloud login" in page
    for path in ("/oauth/authorize", "/oauth/token", "/api/v2/users/me", "/api/v2/tokens/me", "/healthz"):
        assert f"<code>{path}</code>" in page
    assert "http://localhost" in page  # its own base URL, to use as an environment
    nonce = re.search(r"style-src 'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">{page_stylesheet()}</style>' in page
    assert "<script" not in page and resp.headers["Cache-Control"] == "no-store"


def test_demo_credentials_are_never_shown_by_default(tmp_path):
    page = landing(tmp_path).get_data(as_text=True)
    assert PASSWORD not in page and "Demo credentials" not in page and "alice@example.com" not in page


@pytest.mark.parametrize("flag", [True, "1", "true"])
def test_the_demo_shows_its_users_and_clients(tmp_path, flag):
    page = landing(tmp_path, SHOW_DEMO_CREDENTIALS=flag).get_data(as_text=True)
    assert 'id="demo-credentials"' in page
    assert "alice@example.com" in page and f"<code>{PASSWORD}</code>" in page
    assert "demo-client-credentials-secret" in page and "CLIENT-CREDENTIALS" in page


def test_a_malformed_flag_is_refused_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="SHOW_DEMO_CREDENTIALS"):
        create_app(app_config(tmp_path, SHOW_DEMO_CREDENTIALS="maybe"))

