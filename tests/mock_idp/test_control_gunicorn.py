"""The control API under gunicorn as shipped (2 gevent workers): one state for both workers."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from mock_idp.config import default_seed_path
from devtools.servers import MOCK_IDP_ARGS, gunicorn

from .conftest import CC, IMPLICIT, REDIRECT, bearer

pytestmark = pytest.mark.slow
SECRET = "gunicorn-control-secret"
TIMEOUT = 10


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("gunicorn-control")
    env = {"MOCK_IDP_DB": str(root / "store.sqlite3"), "MOCK_IDP_EXPOSE_WORKER_PID": "1",
           "MOCK_IDP_SEED": str(default_seed_path()), "MOCK_IDP_CONTROL_TOKEN": SECRET}
    with gunicorn("mock_idp:create_app()", env=env, workers=2, log_path=root / "gunicorn.log",
                  extra_args=MOCK_IDP_ARGS + ["--error-logfile", "-"]) as (base, _proc):
        yield base, root / "gunicorn.log"


def control(base, method, path, **kwargs):
    return requests.request(method, base + "/mock" + path, headers=bearer(SECRET), timeout=TIMEOUT, **kwargs)


def token_requests(base, count):
    def one(_):
        return requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(CC.id, CC.secret), timeout=TIMEOUT)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def test_a_fault_count_holds_across_workers(served):
    base, _ = served
    workers: set[str] = set()
    # Which worker accepts a connection is the kernel's choice: a batch may land on one.
    # Repeat (bounded) until a batch had both, the case that proves the count is shared.
    for _attempt in range(10):
        control(base, "POST", "/reset")
        assert control(base, "POST", "/faults",
                       json={"status": 503, "path": "/oauth/token", "count": 5}).status_code == 201
        answers = token_requests(base, 40)
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * 35 + [503] * 5
        recorded = control(base, "GET", "/requests").json()["entities"]
        assert sum(1 for r in recorded if r.get("fault") == "status") == 5 and len(recorded) == 40
        workers = {a.headers["X-Mock-Idp-Worker"] for a in answers}
        if len(workers) == 2:
            break
    assert len(workers) == 2, "in ten batches of 40 requests one worker took them all"


def test_the_clock_and_scripted_logins_are_shared(served):
    base, _ = served
    control(base, "POST", "/reset")
    token = control(base, "POST", "/tokens", json={"client_id": CC.id, "expires_in": 300}).json()["access_token"]
    control(base, "POST", "/clock", json={"advance": 301})
    answers = [requests.get(base + "/api/v2/tokens/me", headers=bearer(token), timeout=TIMEOUT) for _ in range(12)]
    assert {a.status_code for a in answers} == {401}
    assert len({a.headers["X-Mock-Idp-Worker"] for a in answers}) >= 1
    control(base, "POST", "/reset")
    control(base, "POST", "/next-login", json={"outcome": "error=temporarily_unavailable", "count": 3})
    params = {"response_type": "token", "client_id": IMPLICIT.id, "redirect_uri": REDIRECT, "state": "s"}
    locations = [requests.get(base + "/oauth/authorize", params=params, allow_redirects=False,
                              timeout=TIMEOUT).headers.get("Location", "") for _ in range(5)]
    assert sum("error=temporarily_unavailable" in loc for loc in locations) == 3


def test_a_dropped_connection_under_gevent(served):
    base, log = served
    control(base, "POST", "/reset")
    control(base, "POST", "/faults", json={"kind": "drop", "path": "/healthz"})
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/healthz", timeout=TIMEOUT)
    assert requests.get(base + "/healthz", timeout=TIMEOUT).status_code == 200
    text = log.read_text()
    assert "Traceback" not in text
    assert "control API is ON" in text and SECRET not in text  # the start warning, never the secret
