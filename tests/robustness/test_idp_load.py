"""The mock IdP under gunicorn (2 workers) and mixed traffic: the short run of `make soak`.

Zero 5xx; each worker's RSS flat within 20% after warm-up; a worker SIGKILLed mid-run is
replaced and no issued token becomes invalid; the SQLite store survives a restart.
"""
from __future__ import annotations


import pytest

from .idp_load import soak
from .soak import breaches

STEADY_SECONDS = 6.0
KILL_SECONDS = 3.0
THREADS = 8


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return soak(STEADY_SECONDS, KILL_SECONDS, tmp_path_factory.mktemp("soak"), threads=THREADS,
                verify=200)


@pytest.mark.slow
def test_mixed_traffic_has_no_server_errors(figures: dict) -> None:
    steady = figures["steady"]
    assert steady["requests"] > 0
    assert set(steady["by_operation"]) == {"token", "users/me", "tokens/me", "authorize",
                                           "authorize+login"}
    assert steady["server_errors"] == 0, steady
    assert steady["unexpected"] == {}, steady
    assert steady["connection_failures"] == {}, steady


@pytest.mark.slow
def test_worker_memory_is_flat_after_warm_up(figures: dict) -> None:
    assert len(figures["rss_growth"]) == 2, figures["rss_kib"]
    for pid, growth in figures["rss_growth"].items():
        assert growth <= 0.20, f"worker {pid}: {figures['rss_kib'][pid]}"


@pytest.mark.slow
def test_killed_worker_is_replaced_and_tokens_stay_valid(figures: dict) -> None:
    kill = figures["kill"]
    assert kill["victim"] not in kill["workers_after"] and len(kill["workers_after"]) == 2
    assert kill["server_errors"] == 0 and kill["unexpected"] == {}, kill
    # Only requests in flight on the killed worker may fail, at most one per load thread.
    assert sum(kill["connection_failures"].values()) <= THREADS, kill["connection_failures"]
    assert kill["tokens_checked"] > 0
    assert kill["tokens_invalid"] == 0, kill


@pytest.mark.slow
def test_store_survives_restart_with_tokens_intact(figures: dict) -> None:
    assert figures["restart"]["tokens_checked"] > 0
    assert figures["restart"]["tokens_invalid"] == 0


@pytest.mark.slow
def test_soak_verdict_agrees(figures: dict) -> None:
    """`make soak` judges the same figures with the same rules."""
    assert breaches(figures) == []
