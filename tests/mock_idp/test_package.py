"""The package's public names, and the test seams' own contracts."""
from __future__ import annotations

import subprocess
import sys

import pytest

import mock_idp
from mock_idp import testing
from mock_idp.testing import issue_token

from .conftest import ALICE, CC


def test_public_names():
    assert mock_idp.__all__ == ["ConfigError", "MockIdpError", "SeedError", "StoreError",
                                "create_app"]
    assert issubclass(mock_idp.SeedError, mock_idp.MockIdpError)
    assert issubclass(mock_idp.StoreError, mock_idp.MockIdpError)
    assert set(testing.__all__) == {"FrozenClock", "LoginForm", "add_redirect_uris", "app_config", "demo_seed",
                                    "issue_token", "parse_login_form"}


@pytest.mark.slow
def test_redirect_uri_matcher_imports_nothing_heavy():
    code = ("import sys, service.redirect_uris; "
            "heavy = {'flask', 'authlib', 'werkzeug', 'requests', 'mock_idp'} & set(sys.modules); "
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == "[]"


def test_issue_token_refuses_unknown_ids(app):
    with pytest.raises(LookupError, match="no client"):
        issue_token(app, "nope")
    with pytest.raises(LookupError, match="no user"):
        issue_token(app, CC.id, "nope")


def test_issue_token_gives_a_working_token(app, client):
    token = issue_token(app, CC.id, ALICE.id, expires_in=300)
    body = client.get("/api/v2/tokens/me", headers={"Authorization": f"Bearer {token}"}).json["mockIdp"]
    assert body["expiresInSeconds"] == 300 and body["user"]["id"] == ALICE.id
