"""`make bench` in miniature: the same harness, seconds-long, so it cannot rot.

Asserts the harness produced well-formed results, never how fast anything was
(performance is judged by `make bench` and reports/bench.md, not by tests).
"""
import json
import os

import pytest

from bench import report
from bench.run import Run
from bench.settings import SMOKE

pytestmark = pytest.mark.slow


_OURS = ("GENESYSCLOUD_", "GCLOGIN_", "MOCK_IDP_", "SERVICE_", "CONFORMANCE_")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One smoke run shared by the module (the autouse clean environment is per test)."""
    out = tmp_path_factory.mktemp("bench")
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(_OURS):
                mp.delenv(name)
        mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        code = Run(SMOKE, out, lines.append).execute()
    return code, out, json.loads((out / "bench.json").read_text()), "\n".join(lines)


def test_every_part_was_measured(smoke):
    code, _out, results, log = smoke
    assert [f for f in results["failures"] if f["part"] != "chart"] == [], log
    assert code == 0


@pytest.mark.parametrize("key", ["ours_token", "ours_token_flask", "ours_users_me", "peer_token",
                                 "ceiling", "ours_token_redis", "ours_users_me_redis"])
def test_each_server_answered_wrk(smoke, key):
    http = smoke[2]["http"][key]
    assert http["requests"] > 0 and http["requests_per_s"] > 0
    assert 0 < http["p50_ms"] <= http["p99_ms"] <= http["max_ms"]
    assert http["connections"] == SMOKE.wrk_connections
    # Some CPU per request, and less than the whole run's worth of both CPUs per request.
    assert 0 < http["server_cpu_us_per_request"] < 2 * 1e6 * SMOKE.wrk_duration_s / http["requests"]


def test_cli_timings_and_ratios(smoke):
    cli = smoke[2]["cli"]
    for key in ("floor", "users_me_get", "profiles_list"):
        assert cli[key]["runs"] == SMOKE.cli_runs and cli[key]["median_ms"] > 0
    assert set(cli["ratios"]) == {"users_me_get", "profiles_list"}


@pytest.mark.parametrize("flow", ["implicit", "pkce"])
@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_logins_saved_a_profile(smoke, flow, mode):
    agg = smoke[2]["login"][flow][mode]
    assert agg["runs"] == SMOKE.login_runs
    assert 0 < agg["median_saved_ms"] <= agg["median_exited_ms"]


@pytest.mark.parametrize("flow", ["implicit", "pkce"])
def test_browser_floor_was_measured_with_the_warm_logins(smoke, flow):
    floor = smoke[2]["login"][f"floor_{flow}"]
    assert set(floor) == {"warm"} and floor["warm"]["runs"] == SMOKE.login_runs
    assert all(v > 0 for v in list(floor["warm"]["median_stages_ms"].values())[2:])
    markdown = (smoke[1] / "bench.md").read_text()
    assert f"browser floor, {flow} | warm |" in markdown and f"{flow} " in markdown.split("over their browser floor")[1]


def test_reports_state_every_target(smoke):
    _code, out, results, _log = smoke
    assert [t["status"] for t in results["targets"]].count(report.NOT_MEASURED) == 0
    markdown = (out / "bench.md").read_text()
    for target in results["targets"]:
        assert f"| {target['name']} | {target['wanted']} | {target['measured']} |" in markdown


def test_chart_is_a_png_when_matplotlib_is_installed(smoke):
    _code, out, results, _log = smoke
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert results["chart"] is None and not (out / "bench.png").exists()
    else:
        assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
