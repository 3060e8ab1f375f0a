"""Access tokens are signed claims: the store holds none, yet revocation, client
deletion and restarts behave as when tokens were rows."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import string
from pathlib import Path

import pytest
from itsdangerous.encoding import base64_encode

from mock_idp import create_app
from mock_idp.access_tokens import Claims, TokenSigner, from_payload, new_claims, to_payload
from mock_idp.config import default_seed_path
from mock_idp.models import digest
from mock_idp.store import PURGE_AFTER
from mock_idp.testing import app_config, issue_token

from .conftest import (ALICE, CC, IMPLICIT, PKCE, REDIRECT, Login, bearer, cc_token, code_params,
                       pkce_pair, query)

KEY = bytes(range(32))


def claims(**overrides) -> Claims:
    fields = dict(client_id=CC.id, incarnation="inc", user_id=None,
                  grant_type="client_credentials", scope="", issued_at=1_700_000_000.5,
                  lifetime=300)
    return new_claims(**{**fields, **overrides})


def tamper(token: str, index: int) -> str:
    """The token with one character changed (never to an equivalent one)."""
    swap = "B" if token[index] == "A" else "A"
    return token[:index] + swap + token[index + 1:]


# -- pure: claims and signing -------------------------------------------------
def test_claims_round_trip_through_the_payload():
    original = claims(user_id=ALICE.id, scope="a b")
    assert from_payload(to_payload(original)) == original
    assert original.expires_at == 1_700_000_300.5


@pytest.mark.parametrize("fields", [None, {}, [], ["x"] * 7, ["x"] * 9,
                                    ["j", "c", "i", 5, "g", "s", 1.0, 300],
                                    ["j", "c", "i", None, "g", "s", "1", 300],
                                    ["j", "c", "i", None, "g", "s", 1.0, 300.5],
                                    ["j", "c", "i", None, "g", "s", 1.0, True]])
def test_payloads_of_another_shape_are_not_claims(fields):
    assert from_payload(base64_encode(json.dumps(fields))) is None


@pytest.mark.parametrize("payload", [b"", b"!!!", base64_encode(b"not json"),
                                     base64_encode(b"\xff\xfe")])
def test_payloads_that_are_not_base64_json_are_not_claims(payload):
    assert from_payload(payload) is None


def test_every_token_gets_its_own_jti():
    assert claims().jti != claims().jti


def test_signer_reads_back_only_what_its_key_signed():
    signer = TokenSigner(KEY)
    one = claims()
    token = signer.sign(one)
    assert signer.read(token) == one
    assert TokenSigner(bytes(32)).read(token) is None
    assert signer.read(tamper(token, len(token) - 20)) is None  # in the signature
    assert signer.read(tamper(token, 5)) is None  # in the claims
    # Other claims under this token's signature (the claims are readable, not forgeable).
    other = TokenSigner(bytes(32)).sign(claims(user_id=ALICE.id)).rpartition(".")[0]
    assert signer.read(f"{other}.{token.rpartition('.')[2]}") is None


def test_the_signature_is_hmac_sha256_of_the_claims():
    token = TokenSigner(KEY).sign(claims())
    payload, _, signature = token.rpartition(".")
    mac = hmac.new(KEY, payload.encode(), hashlib.sha256).digest()
    assert signature == base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@pytest.mark.parametrize("junk", ["", ".", "not-a-token", "a.b.c", "\udcff", "é" * 50])
def test_signer_refuses_junk(junk):
    assert TokenSigner(KEY).read(junk) is None


def test_token_is_url_safe_and_holds_no_secret():
    token = TokenSigner(KEY).sign(claims(user_id=ALICE.id))
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert CC.secret not in token and ALICE.password not in token


# -- the store --------------------------------------------------------------
def query_store(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def tables(db: Path) -> set[str]:
    return {r[0] for r in query_store(db, "SELECT name FROM sqlite_master WHERE type='table'")}


def store_text(db: Path) -> str:
    """Every value in every table of the store, as one string."""
    return "\n".join(str(value) for table in tables(db)
                     for row in query_store(db, f"SELECT * FROM {table}") for value in row)


def test_the_store_holds_no_tokens(app, client, login, tmp_path):
    cc = cc_token(client)
    verifier, challenge = pkce_pair()
    code = query(login.run(**code_params(challenge)).headers["Location"])["code"]
    coded = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": PKCE.id, "code_verifier": verifier}).json["access_token"]
    user = issue_token(app, IMPLICIT.id, ALICE.id)
    db = tmp_path / "mock_idp.sqlite3"
    assert "tokens" not in tables(db)
    text = store_text(db)
    for token in (cc, coded, user):
        assert client.get("/api/v2/tokens/me", headers=bearer(token)).status_code == 200
        assert token not in text and digest(token) not in text
        assert token.rpartition(".")[2] not in text  # not even the signature


def test_tokens_survive_a_restart_on_the_same_store(tmp_path, clock):
    token = cc_token(create_app(app_config(tmp_path, CLOCK=clock)).test_client())
    again = create_app(app_config(tmp_path, CLOCK=clock)).test_client()
    assert again.get("/api/v2/tokens/me", headers=bearer(token)).status_code == 200


def test_another_store_refuses_the_token(tmp_path, clock):
    token = cc_token(create_app(app_config(tmp_path / "a", CLOCK=clock)).test_client())
    other = create_app(app_config(tmp_path / "b", CLOCK=clock)).test_client()
    assert other.get("/api/v2/tokens/me", headers=bearer(token)).status_code == 401


def test_a_tampered_token_is_refused(client):
    token = cc_token(client)
    for where in (5, len(token) - 20):
        response = client.get("/api/v2/tokens/me", headers=bearer(tamper(token, where)))
        assert response.status_code == 401


def test_a_token_has_one_spelling(client):
    """The last base64 character of the signature has spare bits: the other characters that
    decode to the same signature are refused, so a token is accepted only as issued."""
    token = cc_token(client)
    alphabet = string.ascii_letters + string.digits + "-_"
    accepted = [t for t in (token[:-1] + c for c in alphabet)
                if client.get("/api/v2/tokens/me", headers=bearer(t)).status_code == 200]
    assert accepted == [token]


def test_a_client_made_again_with_the_same_id_does_not_revive_old_tokens(tmp_path, clock):
    seed = tmp_path / "seed.toml"
    seed.write_text(default_seed_path().read_text())
    app = create_app(app_config(tmp_path, SEED=str(seed), CLOCK=clock))
    client = app.test_client()
    admin = bearer(cc_token(client))
    old = issue_token(app, IMPLICIT.id, ALICE.id)
    assert client.delete(f"/api/v2/oauth/clients/{IMPLICIT.id}", headers=admin).status_code == 204
    seed.write_text(seed.read_text() + "\n# changed: the deleted client comes back\n")
    app = create_app(app_config(tmp_path, SEED=str(seed), CLOCK=clock))
    client = app.test_client()
    assert client.get(f"/api/v2/oauth/clients/{IMPLICIT.id}", headers=admin).status_code == 200
    assert client.get("/api/v2/users/me", headers=bearer(old)).status_code == 401
    new = issue_token(app, IMPLICIT.id, ALICE.id)
    assert client.get("/api/v2/users/me", headers=bearer(new)).status_code == 200


def test_updating_a_client_keeps_its_tokens(client, admin_token):
    token = cc_token(client)
    body = {"name": "renamed", "authorizedGrantType": "CLIENT-CREDENTIALS", "roles": ["admin"]}
    assert client.put(f"/api/v2/oauth/clients/{CC.id}", json=body,
                      headers=bearer(admin_token)).status_code == 200
    body = client.get("/api/v2/tokens/me", headers=bearer(token)).json
    assert body["OAuthClient"]["name"] == "renamed"


@pytest.fixture
def admin_token(client) -> str:
    return cc_token(client)


def revoked_count(db: Path) -> int:
    return query_store(db, "SELECT count(*) FROM revoked")[0][0]


@pytest.mark.parametrize("store_engine", ["sqlite"])  # Redis: its own expiry, test_redis_store.py
def test_revocations_are_forgotten_once_their_tokens_have_expired(app, client, clock, tmp_path):
    db = tmp_path / "mock_idp.sqlite3"
    first = issue_token(app, CC.id, expires_in=300)
    assert client.delete("/api/v2/tokens/me", headers=bearer(first)).status_code == 204
    assert revoked_count(db) == 1
    clock.advance(300 + PURGE_AFTER - 1)
    second = issue_token(app, CC.id, expires_in=300)
    assert client.delete("/api/v2/tokens/me", headers=bearer(second)).status_code == 204
    assert revoked_count(db) == 2  # the first token expired too recently to forget
    clock.advance(2)
    third = issue_token(app, CC.id, expires_in=300)
    assert client.delete("/api/v2/tokens/me", headers=bearer(third)).status_code == 204
    assert revoked_count(db) == 2  # the first is gone; the second and third stay
    assert client.get("/api/v2/tokens/me", headers=bearer(third)).status_code == 401


_OLD_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE clients (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
    grant_type TEXT NOT NULL, redirect_uris TEXT NOT NULL, scope TEXT NOT NULL,
    validity INTEGER NOT NULL, roles TEXT NOT NULL, secret_hash TEXT NOT NULL,
    date_created TEXT NOT NULL);
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT,
    grant_type TEXT NOT NULL, scope TEXT NOT NULL, issued_at REAL NOT NULL,
    expires_at REAL NOT NULL, revoked_at REAL, code_hash TEXT) WITHOUT ROWID;
CREATE TABLE codes (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
    redirect_uri TEXT, scope TEXT NOT NULL, code_challenge TEXT,
    code_challenge_method TEXT, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0);
INSERT INTO tokens VALUES ('h', 'c', NULL, 'client_credentials', '', 0, 1, NULL, NULL);
INSERT INTO clients VALUES ('{CC.id}', 'old', '', 'CLIENT-CREDENTIALS', '[]', '[]', 86400, '[]', '',
                            '2020-01-01T00:00:00Z');
"""


def test_a_store_from_before_signed_tokens_is_upgraded(tmp_path, clock):
    db = tmp_path / "mock_idp.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript(_OLD_SCHEMA)
    conn.close()
    client = create_app(app_config(tmp_path, CLOCK=clock)).test_client()
    assert "tokens" not in tables(db)
    # The old client row got an (empty) incarnation; tokens of it work.
    assert query_store(db, f"SELECT incarnation FROM clients WHERE id = '{CC.id}'") == [("",)]
    assert client.get("/api/v2/tokens/me", headers=bearer(cc_token(client))).status_code == 200
    # A code grant (which notes its token on the code row), its replay, and revocation.
    verifier, challenge = pkce_pair()
    code = query(Login(client).run(**code_params(challenge)).headers["Location"])["code"]
    redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "client_id": PKCE.id, "code_verifier": verifier}
    token = client.post("/oauth/token", data=redeem).json["access_token"]
    assert client.get("/api/v2/users/me", headers=bearer(token)).status_code == 200
    assert client.post("/oauth/token", data=redeem).status_code == 400
    assert client.get("/api/v2/users/me", headers=bearer(token)).status_code == 401
