"""Two mock processes (two gunicorns, not two workers of one) on one Redis: replicas.

What one replica issues, revokes, creates or starts, the other redeems, refuses, knows
or finishes; a code redeemed 50 times at once across both gives one token.
"""
from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import pytest
import requests

from devtools.redis_server import RedisServer
from devtools.servers import MOCK_IDP_ARGS, gunicorn
from mock_idp.config import default_seed_path
from mock_idp.testing import parse_login_form

from .conftest import ALICE, CC, PKCE, REDIRECT, code_params, pkce_pair, query

pytestmark = pytest.mark.slow
TIMEOUT = 10


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    root = tmp_path_factory.mktemp("replicas")
    server = RedisServer(root / "redis")
    server.start()
    # Every setting explicit: module fixtures start before the per-test env cleanup.
    env = {"MOCK_IDP_STORE": server.url, "MOCK_IDP_SEED": str(default_seed_path()),
           "MOCK_IDP_LOOPBACK_ANY_PORT": "0", "MOCK_IDP_DB": str(root / "unused.sqlite3")}
    try:
        with contextlib.ExitStack() as stack:
            a, _ = stack.enter_context(gunicorn("mock_idp:create_app()", env=env, workers=2,
                                                log_path=root / "a.log", extra_args=MOCK_IDP_ARGS))
            b, _ = stack.enter_context(gunicorn("mock_idp:create_app()", env=env, workers=2,
                                                log_path=root / "b.log", extra_args=MOCK_IDP_ARGS))
            yield a, b
    finally:
        server.stop()
    assert not (root / "unused.sqlite3").exists()  # the Redis store was the one used


def cc_token(base: str) -> str:
    response = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(CC.id, CC.secret), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def start_login(base: str, challenge: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    page = session.get(base + "/oauth/authorize", params=code_params(challenge), timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    return session, page


def finish_login(session: requests.Session, page: requests.Response, base: str) -> str:
    """Posts the form to `base` (perhaps another replica than the one that showed it)."""
    form = parse_login_form(page.text)
    assert form.action.startswith("/"), form.action  # a path: it goes to `base`, not the form's host
    answer = session.post(urljoin(base, form.action), data={**form.fields, "username": ALICE.username,
                                        "password": ALICE.password},
                          allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code in (302, 303), answer.text
    return query(answer.headers["Location"])["code"]


def redeem(base: str, code: str, verifier: str) -> requests.Response:
    return requests.post(base + "/oauth/token", timeout=TIMEOUT, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": PKCE.id, "code_verifier": verifier})


def test_a_code_from_a_is_redeemed_at_b_once(replicas):
    a, b = replicas
    verifier, challenge = pkce_pair()
    session, page = start_login(a, challenge)
    code = finish_login(session, page, a)
    first = redeem(b, code, verifier)
    assert first.status_code == 200, first.text
    assert requests.get(a + "/api/v2/users/me", headers=bearer(first.json()["access_token"]),
                        timeout=TIMEOUT).json()["id"] == ALICE.id
    again = redeem(a, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_sign_in_started_at_a_is_finished_at_b(replicas):
    a, b = replicas
    verifier, challenge = pkce_pair()
    session, page = start_login(a, challenge)
    code = finish_login(session, page, b)
    assert redeem(a, code, verifier).status_code == 200


def test_fifty_concurrent_redemptions_across_a_and_b_give_one_token(replicas):
    a, b = replicas
    verifier, challenge = pkce_pair()
    session, page = start_login(a, challenge)
    code = finish_login(session, page, a)
    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(lambda i: redeem(a if i % 2 else b, code, verifier), range(50)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] + [400] * 49, statuses
    assert all(r.json()["error"] == "invalid_grant" for r in answers if r.status_code == 400)


def test_a_token_revoked_at_a_is_refused_at_b(replicas):
    a, b = replicas
    token = cc_token(a)
    assert requests.get(b + "/api/v2/tokens/me", headers=bearer(token), timeout=TIMEOUT).status_code == 200
    assert requests.delete(a + "/api/v2/tokens/me", headers=bearer(token),
                           timeout=TIMEOUT).status_code == 204
    for _ in range(8):  # fresh connections: whichever worker of b answers
        assert requests.get(b + "/api/v2/tokens/me", headers=bearer(token),
                            timeout=TIMEOUT).status_code == 401


def test_a_client_created_at_a_is_used_at_b(replicas):
    a, b = replicas
    admin = bearer(cc_token(a))
    made = requests.post(a + "/api/v2/oauth/clients", headers=admin, timeout=TIMEOUT, json={
        "name": "made at a", "authorizedGrantType": "CLIENT-CREDENTIALS"})
    assert made.status_code == 200, made.text
    body = made.json()
    token = requests.post(b + "/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(body["id"], body["secret"]), timeout=TIMEOUT)
    assert token.status_code == 200, token.text
    assert requests.delete(b + f"/api/v2/oauth/clients/{body['id']}", headers=admin,
                           timeout=TIMEOUT).status_code == 204
    assert requests.post(a + "/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(body["id"], body["secret"]), timeout=TIMEOUT).status_code == 401
