"""What the genesys_mock fixture costs a test: its reset plus one token request over HTTP,
next to one token request through a bare Flask test client (no server, no reset).

The issue's goal is under 5 ms per test. Medians of `runs` tests after a warm-up; the
clock is time.perf_counter, in this process (the fixture's server is a thread of it).
"""
from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable

import requests

from mock_idp import create_app
from mock_idp.live_server import LiveMock
from mock_idp.testing import app_config

GOAL_MS = 5.0


def _median_ms(call: Callable[[], None], runs: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="gclogin-bench-fixture-") as root:
        with LiveMock.start(f"{root}/fixture") as mock, requests.Session() as http:
            cc = mock.client("CLIENT-CREDENTIALS")

            def one_test() -> None:
                mock.reset()
                answer = http.post(mock.base_url + "/oauth/token", data={"grant_type": "client_credentials"},
                                   auth=(cc.id, cc.secret), timeout=10)
                assert answer.status_code == 200, answer.text

            fixture_ms = _median_ms(one_test, runs)
        client = create_app(app_config(f"{root}/flask")).test_client()

        def bare_call() -> None:
            answer = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(cc.id, cc.secret))
            assert answer.status_code == 200

        flask_ms = _median_ms(bare_call, runs)
    return {"runs": runs, "fixture_reset_and_token_ms": fixture_ms, "flask_test_client_token_ms": flask_ms,
            "goal_ms": GOAL_MS}


def markdown(results: dict) -> list[str]:
    """The report's lines for this part (none if it was not measured)."""
    f = results.get("fixture")
    if not f:
        return []
    return ["", "## The genesys_mock fixture, per test", "",
            f"Reset to the seed plus one token request over HTTP: median {f['fixture_reset_and_token_ms']:.2f} ms "
            f"(goal under {f['goal_ms']:.0f} ms); one token request through a bare Flask test client: "
            f"{f['flask_test_client_token_ms']:.2f} ms. Medians of {f['runs']} runs."]
