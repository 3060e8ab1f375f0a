"""What only the Redis engine has: expiry, its atomic steps under concurrency, the shared
key and cache across stores, and Redis going away and coming back.

The rest of the store's behaviour is proven on both engines by every test using `app`.
"""
from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from mock_idp import create_app
from mock_idp.client_spec import ClientSpec
from mock_idp.errors import ConfigError, StoreError
from mock_idp.models import CODE_LIFETIME
from mock_idp.redis_store import PREFIX, RedisStore, redacted
from mock_idp.store import PURGE_AFTER
from mock_idp.store_api import PENDING_LIFETIME
from mock_idp.testing import app_config, demo_seed, issue_token

from .conftest import ALICE, CC, PKCE, REDIRECT, bearer, code_params, pkce_pair, query

pytestmark = pytest.mark.slow  # a redis-server per session


@pytest.fixture
def store_engine() -> str:
    return "redis"


@pytest.fixture
def url(store_config) -> str:
    return store_config["STORE"]


@pytest.fixture
def conn(url):
    c = redis.Redis.from_url(url, decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def other(app, url, clock):
    """Another replica's store on the same Redis (its own cache, the same clock)."""
    store = RedisStore(url, clock, loopback_any_port=False)
    yield store
    store.close()


SPEC = ClientSpec("made here", "", "CLIENT-CREDENTIALS", (), (), 600, ())


def test_lifetimes_are_redis_expiry(app, client, conn, login):
    page = login.start(**code_params(pkce_pair()[1]))
    assert page.status_code == 200
    [pending] = conn.keys(PREFIX + "pending:*")
    assert 0 < conn.ttl(pending) <= PENDING_LIFETIME
    location = login.submit(page).headers["Location"]
    assert "code" in query(location)
    [code] = conn.keys(PREFIX + "code:*")
    assert CODE_LIFETIME < conn.ttl(code) <= CODE_LIFETIME + PURGE_AFTER
    token = issue_token(app, CC.id, expires_in=300)
    assert client.delete("/api/v2/tokens/me", headers=bearer(token)).status_code == 204
    [revoked] = conn.keys(PREFIX + "revoked:*")
    assert 290 <= conn.ttl(revoked) <= 302  # until the token would have expired


def test_no_secret_is_a_key_or_value(app, login, conn):
    verifier, challenge = pkce_pair()
    code = query(login.run(**code_params(challenge)).headers["Location"])["code"]
    everything = " ".join(conn.keys("*") + [str(conn.get(k) if conn.type(k) == "string" else
                                                 conn.hgetall(k) if conn.type(k) == "hash" else
                                                 conn.smembers(k)) for k in conn.keys("*")])
    for secret in (code, ALICE.password, CC.secret, verifier):
        assert secret not in everything


def test_a_code_redeemed_by_many_threads_at_once_gives_one_claim(app, other):
    store = app.extensions["mock_idp"].store
    store.save_code("the-code", client_id=PKCE.id, user_id=ALICE.id, redirect_uri=REDIRECT,
                    scope="", code_challenge="x", code_challenge_method="S256")
    with ThreadPoolExecutor(max_workers=16) as pool:
        claims = list(pool.map(lambda i: (store if i % 2 else other).claim_code("the-code", PKCE.id),
                               range(50)))
    assert sum(c is not None for c in claims) == 1


def test_a_code_claimed_by_another_client_stays_for_its_own(app):
    store = app.extensions["mock_idp"].store
    store.save_code("c", client_id=PKCE.id, user_id=ALICE.id, redirect_uri=None, scope="",
                    code_challenge=None, code_challenge_method=None)
    assert store.claim_code("c", CC.id) is None
    assert store.claim_code("c", PKCE.id) is not None
    assert store.claim_code("c", PKCE.id) is None


def test_the_signing_key_is_shared_and_a_revocation_seen_by_every_replica(app, other):
    store = app.extensions["mock_idp"].store
    token = issue_token(app, CC.id)
    found = other.find_token(token)
    assert found is not None and not found.revoked
    other.revoke_token(found)
    assert store.find_token(token).revoked


def test_a_directory_change_by_one_replica_reaches_the_other(app, other):
    store = app.extensions["mock_idp"].store
    assert other.get_client(CC.id).validity == 86400  # now in other's cache
    store.update_client(CC.id, ClientSpec("changed", "", "CLIENT-CREDENTIALS", (), (), 900, ("admin",)))
    assert other.get_client(CC.id).validity == 900
    made, _secret = other.create_client(SPEC)
    assert store.get_client(made.id) == made
    assert store.delete_client(made.id)
    assert other.get_client(made.id) is None


def test_replicas_starting_together_apply_the_seed_once(url, store_config):
    seed = demo_seed()
    stores = [RedisStore(url, time.time, loopback_any_port=False) for _ in range(8)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            applied = list(pool.map(lambda s: s.apply_seed(seed), stores))
        tokens = [s.issue_token(s.get_client(CC.id), user_id=None, grant_type="client_credentials",
                                scope="", expires_in=60) for s in stores]
        assert applied.count(True) == 1
        assert all(stores[0].find_token(token) is not None for token in tokens)  # one key
    finally:
        for s in stores:
            s.close()


def test_admin_changes_survive_a_replica_reapplying_the_seed(app, url):
    store = app.extensions["mock_idp"].store
    made, _ = store.create_client(SPEC)
    late = RedisStore(url, time.time, loopback_any_port=False)
    try:
        assert late.apply_seed(demo_seed()) is False
        assert late.get_client(made.id) == made
    finally:
        late.close()


def test_an_unreachable_redis_at_start_is_one_error_naming_the_url(tmp_path):
    with pytest.raises(StoreError, match=r"cannot reach Redis at redis://:\*\*\*@127\.0\.0\.1:1/0") as error:
        create_app(app_config(tmp_path, STORE="redis://:hunter2@127.0.0.1:1/0"))
    assert "hunter2" not in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("value", ["http://127.0.0.1:6379", "redis://", "6379", "redis:///0"])
def test_a_store_setting_that_is_not_a_redis_url_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="MOCK_IDP_STORE"):
        create_app(app_config(tmp_path, STORE=value))


def test_the_password_is_redacted():
    assert redacted("rediss://user:pw@host:6380/1") == "rediss://user:***@host:6380/1"
    assert redacted("redis://host:6379/0") == "redis://host:6379/0"


def test_python_m_mock_idp_exits_non_zero_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mock_idp", "--port", "0"], capture_output=True,
                            text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "MOCK_IDP_STORE": "redis://127.0.0.1:1/0",
                                 "HOME": str(tmp_path)})
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "redis://127.0.0.1:1/0" in result.stderr and "Traceback" not in result.stderr


def test_the_control_api_with_redis_is_refused_by_name(tmp_path, url):
    with pytest.raises(ConfigError, match="MOCK_IDP_CONTROL_TOKEN"):
        create_app(app_config(tmp_path, STORE=url, CONTROL_TOKEN="secret-token"))


def test_redis_lost_gives_503s_and_an_unhealthy_healthz_then_recovers(app, client, redis_server, login):
    token = issue_token(app, CC.id)
    revoked = issue_token(app, CC.id)
    assert client.delete("/api/v2/tokens/me", headers=bearer(revoked)).status_code == 204
    assert client.get("/api/v2/tokens/me", headers=bearer(token)).status_code == 200
    redis_server.stop()
    try:
        down = [
            client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(CC.id, CC.secret)),
            client.get("/api/v2/users/me", headers=bearer(token)),
            client.get("/api/v2/tokens/me", headers=bearer(revoked)),
            login.start(**code_params(pkce_pair()[1])),
        ]
        assert [r.status_code for r in down] == [503] * 4, [r.get_data(as_text=True) for r in down]
        assert down[0].json["error"] == "temporarily_unavailable"
        assert down[1].json["code"] == "service.unavailable" and down[1].json["status"] == 503
        assert all("Traceback" not in r.get_data(as_text=True) for r in down)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json["status"] != "ok"
    finally:
        redis_server.start()  # with its append-only file: what it held comes back
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v2/tokens/me", headers=bearer(token)).status_code == 200
    assert client.get("/api/v2/tokens/me", headers=bearer(revoked)).status_code == 401
    assert client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       auth=(CC.id, CC.secret)).status_code == 200
