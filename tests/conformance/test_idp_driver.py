"""The suite's IdP driver registers clients the way each target needs: at this project's
mock a CODE client is public (the mock's extension), elsewhere the body stays Genesys's."""
from __future__ import annotations

import dataclasses

import pytest

from gclogin_conformance.checks.server_common import REDIRECT, exchange, pkce_code
from gclogin_conformance.idp_driver import Idp
from gclogin_conformance.plugin import mock_spec
from gclogin_conformance.servers import wsgi_server


@pytest.fixture(scope="module")
def mock_base(tmp_path_factory):
    from mock_idp import create_app

    with wsgi_server(create_app({"DB": str(tmp_path_factory.mktemp("idp") / "idp.sqlite3")})) as base:
        yield base


def test_at_the_mock_a_code_client_is_public_and_logs_in_with_pkce_alone(mock_base):
    idp = Idp(mock_spec(mock_base))
    client = {**idp.create_client("CODE", [REDIRECT]), "redirect_uri": REDIRECT}
    assert "secret" not in client and client["mockIdp"] == {"publicClient": True}
    code, verifier = pkce_code(idp, client)
    token = exchange(idp, client, code, verifier)
    assert token.status_code == 200 and "refresh_token" not in token.json()


def test_a_confidential_code_client_sends_its_secret_and_gets_a_refresh_token(mock_base):
    idp = Idp(mock_spec(mock_base))
    client = {**idp.create_client("CODE", [REDIRECT], public=False), "redirect_uri": REDIRECT}
    assert client["secret"]
    code, verifier = pkce_code(idp, client)
    assert exchange(idp, client, code, verifier).json()["refresh_token"]
    code, verifier = pkce_code(idp, client)
    bare = exchange(idp, {**client, "secret": None}, code, verifier)  # PKCE alone: refused
    assert bare.status_code == 400 and bare.json()["error"] == "invalid_client"


def test_another_server_gets_a_genesys_shaped_body(mock_base):
    """Not the mock: no extension, so the mock answers as Genesys would, with a secret."""
    idp = Idp(dataclasses.replace(mock_spec(mock_base), mock=False))
    made = idp.create_client("CODE", [REDIRECT])
    assert made["secret"] and "mockIdp" not in made
    assert "secret" in idp.create_client("TOKEN", [REDIRECT])
