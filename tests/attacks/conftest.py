"""Shared by the attack tests: an in-process mock IdP on 127.0.0.1 and a clean CLI environment."""
from __future__ import annotations

import os

import pytest

from devtools.servers import wsgi_server
from mock_idp import create_app

ALICE_ID = "6650c99a-9866-41a3-b577-880d031e1b2a"
PKCE_ID = "83077448-22f4-4b92-8051-44c69b08993c"


@pytest.fixture
def idp(tmp_path):
    """(base URL, app) of a demo-seeded mock IdP served from a thread."""
    app = create_app({"DB": str(tmp_path / "idp.sqlite3")})
    with wsgi_server(app) as url:
        yield url, app


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """The process environment a CLI run sees: no GENESYSCLOUD_* of the developer's."""
    for name in list(os.environ):
        if name.startswith(("GENESYSCLOUD_", "GCLOGIN_", "MOCK_IDP_", "SERVICE_")):
            monkeypatch.delenv(name)
    config = tmp_path / "gc" / "config.toml"
    monkeypatch.setenv("GCLOGIN_CONFIG", str(config))
    return config
