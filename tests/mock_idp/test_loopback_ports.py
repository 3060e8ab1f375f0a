"""The demo's any-port opt-in (MOCK_IDP_LOOPBACK_ANY_PORT=localhost) and the error page's
list of a client's registered loopback ports (issue 19)."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from mock_idp.app import create_app
from mock_idp.config import settings
from mock_idp.errors import ConfigError
from mock_idp.testing import app_config

PKCE_ID = "83077448-22f4-4b92-8051-44c69b08993c"  # the demo seed's: http(s)://localhost:8080, :8090


def authorize(client, port: int, client_id: str = PKCE_ID, **headers: str):
    query = urlencode({"response_type": "code", "client_id": client_id,
                       "redirect_uri": f"http://localhost:{port}", "state": "s",
                       "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                       "code_challenge_method": "S256"})
    return client.get(f"/oauth/authorize?{query}", headers=headers)


@pytest.mark.parametrize(("value", "rule"), [("localhost", "localhost"), (" LOCALHOST ", "localhost"),
                                             ("1", True), ("0", False), (True, True)])
def test_the_setting_reads_a_flag_or_localhost(tmp_path, value, rule):
    assert settings(app_config(tmp_path, LOOPBACK_ANY_PORT=value)).loopback_any_port == rule


def test_another_value_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="^MOCK_IDP_LOOPBACK_ANY_PORT: expected 1, 0 or localhost, got 'yes please'"):
        settings(app_config(tmp_path, LOOPBACK_ANY_PORT="yes please"))


def test_exact_matching_is_the_default_and_the_page_lists_the_ports(client):
    page = authorize(client, 8123)
    assert page.status_code == 400 and "Location" not in page.headers  # R4
    text = page.get_data(as_text=True)
    assert 'data-ports="8080 8090" data-any-port="false"' in text
    assert "Its registered loopback redirect ports: 8080, 8090." in text
    assert authorize(client, 8090).status_code == 200


def test_the_localhost_opt_in_accepts_any_port(tmp_path):
    app = create_app(app_config(tmp_path, LOOPBACK_ANY_PORT="localhost"))
    try:
        client = app.test_client()
        assert authorize(client, 8123).status_code == 200
        page = authorize(client, 8123, client_id="no-such-client")
        assert page.status_code == 400 and "registered-ports" not in page.get_data(as_text=True)
    finally:
        app.extensions["mock_idp"].store.close()


def pending_rows(app) -> int:
    import sqlite3
    with sqlite3.connect(app.extensions["mock_idp"].settings.db) as conn:
        return conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0]


def test_a_prefetch_is_validated_but_changes_nothing(tmp_path):
    app = create_app(app_config(tmp_path))  # SQLite: its pending table is counted
    try:
        client = app.test_client()
        answer = authorize(client, 8080, **{"Sec-Purpose": "prefetch"})
        assert answer.status_code == 204 and "Set-Cookie" not in answer.headers
        refused = authorize(client, 8123, **{"Sec-Purpose": "prefetch"})
        assert refused.status_code == 400 and "8080 8090" in refused.get_data(as_text=True)
        assert pending_rows(app) == 0
        assert authorize(client, 8080).status_code == 200 and pending_rows(app) == 1  # a browser's is kept
    finally:
        app.extensions["mock_idp"].store.close()
