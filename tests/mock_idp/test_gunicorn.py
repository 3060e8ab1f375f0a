"""Under gunicorn as shipped (2 gevent workers), every worker sees the same tokens,
revocations and clients."""
from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import pytest
import requests

from mock_idp.config import default_seed_path
from mock_idp.testing import parse_login_form
from devtools.servers import MOCK_IDP_ARGS, gunicorn

from .conftest import (ALICE, CC, PKCE, REDIRECT, code_params, fragment,
                       implicit_params, pkce_pair, query)

pytestmark = pytest.mark.slow
TIMEOUT = 10
LOG_ARGS = ["--access-logfile", "-", "--error-logfile", "-", "--log-level", "debug"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("gunicorn")
    log = root / "gunicorn.log"
    # Every setting explicit: module fixtures start before the per-test env cleanup.
    env = {"MOCK_IDP_DB": str(root / "store.sqlite3"), "MOCK_IDP_EXPOSE_WORKER_PID": "1",
           "MOCK_IDP_LOOPBACK_ANY_PORT": "0", "MOCK_IDP_SEED": str(default_seed_path())}
    # Access log and error log (debug level) both go to `log`: test_logs_hold_no_secrets.
    with gunicorn("mock_idp:create_app()", env=env, workers=2, log_path=log,
                  extra_args=MOCK_IDP_ARGS + LOG_ARGS) as (base, _proc):
        yield base, log


def fresh_get(url: str, headers: dict[str, str]) -> requests.Response:
    # requests.get opens a new connection every time, so the kernel may hand it to any worker
    return requests.get(url, headers=headers, timeout=TIMEOUT)


def answers_by_worker(url: str, headers: dict[str, str], batches: int = 20) -> dict[str, set[int]]:
    """Statuses per worker pid, from concurrent fresh connections until two workers answered."""
    seen: dict[str, set[int]] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(batches):
            for response in pool.map(lambda _: fresh_get(url, headers), range(16)):
                seen.setdefault(response.headers["X-Mock-Idp-Worker"], set()).add(
                    response.status_code)
            if len(seen) >= 2:
                break
    return seen


def cc_token(base: str) -> str:
    response = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(CC.id, CC.secret), timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()["access_token"]


def test_token_is_accepted_and_revoked_on_every_worker(served):
    base, log = served
    token = cc_token(base)
    auth = {"Authorization": f"Bearer {token}"}
    before = answers_by_worker(base + "/api/v2/tokens/me", auth)
    assert len(before) == 2, f"only one worker answered: {before}"
    assert all(statuses == {200} for statuses in before.values()), before

    revoke = requests.delete(base + "/api/v2/tokens/me", headers=auth, timeout=TIMEOUT)
    assert revoke.status_code == 204

    after = answers_by_worker(base + "/api/v2/tokens/me", auth)
    assert len(after) == 2, f"only one worker answered: {after}"
    assert all(statuses == {401} for statuses in after.values()), after
    assert token not in log.read_text(errors="replace")


def test_admin_changes_reach_every_worker(served):
    base, _log = served
    admin = {"Authorization": f"Bearer {cc_token(base)}"}
    created = requests.post(base + "/api/v2/oauth/clients", headers=admin, timeout=TIMEOUT, json={
        "name": "made on one worker", "authorizedGrantType": "CLIENT-CREDENTIALS"}).json()
    seen = answers_by_worker(base + f"/api/v2/oauth/clients/{created['id']}", admin)
    assert len(seen) == 2 and all(s == {200} for s in seen.values()), seen
    assert requests.delete(base + f"/api/v2/oauth/clients/{created['id']}", headers=admin,
                           timeout=TIMEOUT).status_code == 204
    seen = answers_by_worker(base + f"/api/v2/oauth/clients/{created['id']}", admin)
    assert len(seen) == 2 and all(s == {404} for s in seen.values()), seen


def token_answers_by_worker(base: str, client: tuple[str, str],
                            batches: int = 20) -> dict[str, set[tuple[int, int | None]]]:
    """(status, expires_in) per worker pid for client-credentials requests, as above."""
    def post(_: int) -> requests.Response:
        return requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                             auth=client, timeout=TIMEOUT)

    seen: dict[str, set[tuple[int, int | None]]] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(batches):
            for response in pool.map(post, range(16)):
                expires = response.json().get("expires_in") if response.ok else None
                seen.setdefault(response.headers["X-Mock-Idp-Worker"], set()).add(
                    (response.status_code, expires))
            if len(seen) >= 2:
                break
    return seen


def test_token_endpoint_sees_admin_changes_on_every_worker(served):
    """Each worker caches clients; an admin change on one worker reaches all at once."""
    base, _log = served
    admin = {"Authorization": f"Bearer {cc_token(base)}"}
    body = {"name": "cached client", "authorizedGrantType": "CLIENT-CREDENTIALS",
            "accessTokenValiditySeconds": 600}
    made = requests.post(base + "/api/v2/oauth/clients", headers=admin, json=body,
                         timeout=TIMEOUT).json()
    client = (made["id"], made["secret"])
    seen = token_answers_by_worker(base, client)  # every worker now has it cached
    assert len(seen) == 2 and all(s == {(200, 600)} for s in seen.values()), seen

    changed = requests.put(base + f"/api/v2/oauth/clients/{made['id']}", headers=admin,
                           json={**body, "accessTokenValiditySeconds": 900}, timeout=TIMEOUT)
    assert changed.status_code == 200
    seen = token_answers_by_worker(base, client)
    assert len(seen) == 2 and all(s == {(200, 900)} for s in seen.values()), seen

    assert requests.delete(base + f"/api/v2/oauth/clients/{made['id']}", headers=admin,
                           timeout=TIMEOUT).status_code == 204
    seen = token_answers_by_worker(base, client)
    assert len(seen) == 2 and all(s == {(401, None)} for s in seen.values()), seen


def test_logins_work_whichever_worker_serves_each_step(served):
    """Form shown by one worker, posted to another, code redeemed by a third request."""
    base, log = served
    for _ in range(6):
        verifier, challenge = pkce_pair()
        browser = requests.Session()
        browser.headers["Connection"] = "close"  # a fresh connection per step
        page = browser.get(base + "/oauth/authorize", params=code_params(challenge),
                           timeout=TIMEOUT)
        form = parse_login_form(page.text)
        done = browser.post(urljoin(base, form.action), allow_redirects=False, timeout=TIMEOUT,
                            data={**form.fields, "username": ALICE.username,
                                  "password": ALICE.password})
        assert done.status_code == 302, done.text
        token = requests.post(base + "/oauth/token", timeout=TIMEOUT, data={
            "grant_type": "authorization_code", "code": query(done.headers["Location"])["code"],
            "redirect_uri": REDIRECT, "client_id": PKCE.id, "code_verifier": verifier})
        assert token.status_code == 200, token.text
    assert ALICE.password not in log.read_text(errors="replace")


def test_default_store_is_shared_by_the_workers(tmp_path):
    """Without MOCK_IDP_DB the workers still share one store (keyed by their master)."""
    env = {"TMPDIR": str(tmp_path), "MOCK_IDP_EXPOSE_WORKER_PID": "1",
           "MOCK_IDP_SEED": str(default_seed_path()), "MOCK_IDP_LOOPBACK_ANY_PORT": "0"}
    # MOCK_IDP_DB must be absent, not empty: run with a copy of the environment without it.
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MOCK_IDP_DB", raising=False)
        with gunicorn("mock_idp:create_app()", env=env, workers=2,
                      extra_args=MOCK_IDP_ARGS) as (base, _proc):
            token = cc_token(base)
            seen = answers_by_worker(base + "/api/v2/tokens/me",
                                     {"Authorization": f"Bearer {token}"})
    assert len(seen) == 2 and all(s == {200} for s in seen.values()), seen
    stores = list(tmp_path.glob("mock-idp-*/store-*.sqlite3"))
    assert len(stores) == 1 and stores[0].parent.stat().st_mode & 0o777 == 0o700


def browser_login(base: str, params: dict[str, str], password: str = ALICE.password,
                  ) -> tuple[requests.Response, dict[str, str]]:
    """Sign in (first a wrong password, then the right one); returns the redirect and form."""
    browser = requests.Session()
    page = browser.get(base + "/oauth/authorize", params=params, timeout=TIMEOUT)
    form = parse_login_form(page.text)
    wrong = browser.post(urljoin(base, form.action), timeout=TIMEOUT, data={
        **form.fields, "username": ALICE.username, "password": "wrong-" + password})
    assert wrong.status_code == 200 and parse_login_form(wrong.text).error
    done = browser.post(urljoin(base, form.action), allow_redirects=False, timeout=TIMEOUT,
                        data={**form.fields, "username": ALICE.username, "password": password})
    assert done.status_code == 302, done.text
    return done, form.fields


def wait_for_line(log, marker: str, timeout: float = 10.0) -> str:
    """The log once `marker` is in it (gunicorn writes the access line after the response)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if marker in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"{marker!r} never reached the log")


def test_logs_hold_no_secrets(served):
    """R25: access and debug error logs through every flow show no secret value."""
    base, log = served
    seen: list[str] = [CC.secret, ALICE.password]

    def post_token(data, **kwargs):
        response = requests.post(base + "/oauth/token", data=data, timeout=TIMEOUT, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    # client credentials: Basic and client_secret_post, plus a failed attempt
    basic = post_token({"grant_type": "client_credentials"}, auth=(CC.id, CC.secret))
    posted = post_token({"grant_type": "client_credentials", "client_id": CC.id,
                         "client_secret": CC.secret})
    wrong = "wrong-" + CC.secret
    assert requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(CC.id, wrong), timeout=TIMEOUT).status_code == 401
    # a client made through the admin API: its secret is shown once, then used
    admin = {"Authorization": f"Bearer {basic}"}
    made = requests.post(base + "/api/v2/oauth/clients", headers=admin, timeout=TIMEOUT, json={
        "name": "log check", "authorizedGrantType": "CLIENT-CREDENTIALS"}).json()
    made_token = post_token({"grant_type": "client_credentials"}, auth=(made["id"], made["secret"]))
    # implicit
    done, implicit_form = browser_login(base, implicit_params())
    implicit = fragment(done.headers["Location"])["access_token"]
    # code + PKCE, then a replay of the code (refused, and it revokes the token)
    verifier, challenge = pkce_pair()
    done, code_form = browser_login(base, code_params(challenge))
    code = query(done.headers["Location"])["code"]
    redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "client_id": PKCE.id, "code_verifier": verifier}
    coded = post_token(redeem)
    assert requests.post(base + "/oauth/token", data=redeem, timeout=TIMEOUT).status_code == 400
    # token use and revocation
    for token in (basic, posted, made_token, implicit):
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.get(base + "/api/v2/tokens/me", headers=auth, timeout=TIMEOUT).ok
        assert requests.delete(base + "/api/v2/tokens/me", headers=auth,
                               timeout=TIMEOUT).status_code == 204
        assert requests.get(base + "/api/v2/users/me", headers=auth,
                            timeout=TIMEOUT).status_code == 401
    assert requests.get(base + "/api/v2/users/me", headers={"Authorization": f"Bearer {coded}"},
                        timeout=TIMEOUT).status_code == 401  # revoked by the replay

    marker = "end-" + secrets.token_hex(8)
    # In the User-Agent: gunicorn.conf.py keeps query strings out of the access log.
    requests.get(base + "/healthz", headers={"User-Agent": marker}, timeout=TIMEOUT)
    text = wait_for_line(log, marker)
    # the log really is the access log plus the debug error log
    assert '"POST /oauth/token HTTP/1.1" 200' in text
    assert '"DELETE /api/v2/tokens/me HTTP/1.1" 204' in text
    assert "[DEBUG]" in text
    seen += [basic, posted, wrong, made["secret"], made_token, implicit, code, coded, verifier,
             implicit_form["request_id"], implicit_form["csrf_token"],
             code_form["request_id"], code_form["csrf_token"]]
    for value in seen:
        assert value not in text, "a secret reached the server log"
    # The check sees every request (gunicorn.conf.py logs paths without query strings).
    assert '"GET /oauth/authorize HTTP/1.1" 200' in text
    assert '"POST /oauth/authorize HTTP/1.1" 302' in text
