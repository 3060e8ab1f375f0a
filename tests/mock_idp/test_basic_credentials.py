"""HTTP Basic client credentials per RFC 6749 §2.3.1: each part form-urlencoded, then joined.

A secret with a space, a plus, a slash, a colon, a percent and a non-ASCII letter is
accepted whichever way a client encodes it: strictly (space as '+'), with %20, or not
at all (as Genesys's SDKs send it).
"""
from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_idp import create_app
from mock_idp.client_auth import basic_credentials
from mock_idp.testing import app_config

SECRET = "s3+cr/et:%é x"
CLIENT_ID = "basic-encoding-client"
SEED = f"""
[[clients]]
id = "{CLIENT_ID}"
secret = "{SECRET}"
name = "Basic encodings"
authorized_grant_type = "CLIENT-CREDENTIALS"
"""


@pytest.fixture
def client(tmp_path):
    seed = tmp_path / "seed.toml"
    seed.write_text(SEED, encoding="utf-8")
    return create_app(app_config(tmp_path, SEED=str(seed))).test_client()


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def token_request(client, headers):
    return client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=headers)


@pytest.mark.parametrize("encode", [
    pytest.param(lambda s: quote_plus(s, safe=""), id="plus-for-space"),
    pytest.param(lambda s: quote(s, safe=""), id="percent-20"),
    pytest.param(lambda s: s, id="raw"),
])
def test_each_encoding_of_the_secret_authenticates(client, encode):
    response = token_request(client, basic(encode(CLIENT_ID), encode(SECRET)))
    assert response.status_code == 200, response.json
    assert response.json["access_token"]


def test_the_plus_encoding_really_carries_a_plus_for_the_space():
    assert quote_plus(SECRET, safe="").endswith("%C3%A9+x")  # what the first case sends


def test_a_wrong_secret_is_invalid_client_in_a_sentence(client):
    response = token_request(client, basic(CLIENT_ID, SECRET.replace(" ", "+")))
    assert response.status_code == 401
    assert response.json == {"error": "invalid_client",
                             "error_description": "The client id or client secret is wrong."}
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1),
       st.text(st.characters(blacklist_categories=("Cs",))))
def test_form_encoded_credentials_decode_to_what_was_encoded(client_id, secret):
    header = basic(quote_plus(client_id, safe=""), quote_plus(secret, safe=""))["Authorization"]
    assert basic_credentials(header)[0] == (client_id, secret)


@pytest.mark.parametrize("header, problem", [
    ("Bearer abc", "Basic scheme"),
    ("Basic ", "missing"),
    ("Basic !!!", "base64"),
    ("Basic " + base64.b64encode(b"no-colon").decode(), "client_id:client_secret"),
    ("Basic " + base64.b64encode(b":secret").decode(), "client_id:client_secret"),
])
def test_malformed_basic_headers_say_what_is_wrong(header, problem):
    with pytest.raises(ValueError, match=problem):
        basic_credentials(header)
