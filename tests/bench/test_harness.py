"""The bench's pure parts: wrk's result line, compose's gunicorn settings, the targets."""
import json
import os

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import proc_cpu, report, wrk
from bench.settings import (ComposeError, compose_command, gunicorn_flags, resolve,
                            shipped_gunicorn_settings)
from devtools.processes import IDP_CONFIG
from devtools.servers import MOCK_IDP_ARGS


def _line(**over):
    raw = {"requests": 3000, "duration_us": 2_000_000, "bytes": 1, "non2xx": 2,
           "socket_errors": {"connect": 0, "read": 1, "write": 0, "timeout": 3},
           "latency_us": {"p50": 1500, "p90": 4000, "p99": 9000, "max": 20000, "mean": 2000.5}}
    raw.update(over)
    return "Running 2s test\n" + wrk.MARKER + json.dumps(raw) + "\n"


def test_parse_output_reads_rate_latency_and_errors():
    r = wrk.parse_output(_line(), connections=32, threads=2)
    assert (r.requests, r.requests_per_s, r.p50_ms, r.p99_ms) == (3000, 1500.0, 1.5, 9.0)
    assert (r.non2xx, r.socket_errors, r.errors) == (2, 4, 6)
    assert r.to_json()["errors"] == 6


@pytest.mark.parametrize("stdout, message", [
    ("no marker here", "got 0"),
    (_line() + _line(), "got 2"),
    (wrk.MARKER + "{not json", "malformed"),
    (wrk.MARKER + '{"requests": 1}', "malformed"),
])
def test_parse_output_rejects_missing_or_malformed_lines(stdout, message):
    with pytest.raises(wrk.WrkError, match=message):
        wrk.parse_output(stdout, 1, 1)


@settings(max_examples=50)
@given(st.text(max_size=200))
def test_parse_output_raises_only_wrk_error(text):
    try:
        wrk.parse_output(text, 1, 1)
    except wrk.WrkError:
        pass


@pytest.mark.parametrize("compose, expected", [
    ("services:\n  idp:\n    command: gunicorn --workers 4 --threads 2 'mock_idp:create_app()'\n",
     ["gunicorn", "--workers", "4", "--threads", "2", "mock_idp:create_app()"]),
    ('services:\n  idp:\n    command: ["gunicorn", "--workers",\n              "3", "x"]\n  web:\n'
     '    command: ["gunicorn", "--workers", "9", "--threads", "8"]\n', ["gunicorn", "--workers", "3", "x"]),
    ("services:\n  web:\n    command: gunicorn --workers 4\n  idp:\n    command: gunicorn -w 2\n",
     ["gunicorn", "-w", "2"]),
    # The healthcheck's `python3 -c` is not the command's.
    ('services:\n  idp:\n    healthcheck:\n      test: ["CMD", "python3", "-c", "x"]\n'
     '    command: ["gunicorn", "-c", "python:m"]\n', ["gunicorn", "-c", "python:m"]),
    # A bracket inside a string does not end the list.
    ('services:\n  idp:\n    command: ["gunicorn", "--bind", "[::]:8081", "-w", "3"]\n',
     ["gunicorn", "--bind", "[::]:8081", "-w", "3"]),
    # Any YAML spelling compose takes: single quotes, a block list, a folded string, anchors.
    ("services:\n  idp:\n    command: ['gunicorn', '-w', '3']\n", ["gunicorn", "-w", "3"]),
    ("services:\n  idp:\n    command:\n      - gunicorn\n      - -w\n      - '3'\n",
     ["gunicorn", "-w", "3"]),
    ("services:\n  idp:\n    command: >\n      gunicorn -w 3\n", ["gunicorn", "-w", "3"]),
    ("x: &cmd\n  command: [gunicorn, -w, '4']\nservices:\n  idp:\n    <<: *cmd\n",
     ["gunicorn", "-w", "4"]),
    ("services:\n  web:\n    command: gunicorn --workers 4\n", None),
    ("services:\n  idp:\n    image: x\n", None),
    ("", None),
    ("name: x\n", None),
])
def test_compose_command(compose, expected):
    assert compose_command(compose) == expected


@pytest.mark.parametrize("compose, message", [
    ('services:\n  idp:\n    command: ["gunicorn", 3]\n', "service idp's command"),
    ("services:\n  idp:\n    command: {gunicorn: x}\n", "service idp's command"),
    ("services:\n  idp:\n    command: -w 3\n    command: [\n", "compose line 5: not valid YAML"),
    ('services:\n  idp:\n    command: ["gunicorn", "unterminated\n', "compose line 4: not valid YAML"),
    ("services: [idp]\n", "'services' must be a mapping"),
    ("services:\n  idp: gunicorn\n", "service idp must be a mapping"),
])
def test_compose_command_refuses_what_it_cannot_read(compose, message):
    with pytest.raises(ComposeError, match=message):
        compose_command(compose)


@settings(max_examples=100)
# No control characters: PyYAML's emitter writes a lone NEL (U+0085) as a space.
@given(st.lists(st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12),
                max_size=6), st.sampled_from([None, True, False]))
def test_any_list_of_strings_is_read_back_however_yaml_writes_it(command, flow):
    """Flow or block style, quoted as the emitter likes: the command compose would run."""
    text = yaml.safe_dump({"services": {"web": {"command": ["x"]}, "idp": {"command": command}}},
                          default_flow_style=flow, allow_unicode=True)
    assert compose_command(text) == command


def test_a_compose_error_names_the_file(tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  idp:\n    command: [\n")
    with pytest.raises(ComposeError, match=r"^compose\.yaml line 4: not valid YAML"):
        shipped_gunicorn_settings(compose)


@pytest.mark.parametrize("command, expected", [
    (["gunicorn", "--workers", "4", "--threads=2", "app"], {"workers": "4", "threads": "2"}),
    (["gunicorn", "-w", "2", "-k", "gevent", "-c", "python:m", "app"],
     {"workers": "2", "worker_class": "gevent", "config": "python:m"}),
    (["gunicorn", "-w4", "-kgevent", "-w=5"], {"workers": "5", "worker_class": "gevent"}),
    (["gunicorn", "--workers", "2", "--workers", "5"], {"workers": "5"}),  # the last wins
    (["gunicorn", "--bind", "0.0.0.0:1", "--workers"], {}),  # a flag without its value
    (["gunicorn", "--workers", "--threads", "2"], {"threads": "2"}),  # nor with a flag for it
])
def test_gunicorn_flags(command, expected):
    assert gunicorn_flags(command) == expected


_SPELLINGS = {"workers": ["--workers", "-w"], "threads": ["--threads"],
              "worker_class": ["--worker-class", "-k"], "config": ["--config", "-c"]}


@st.composite
def flagged_commands(draw):
    """A gunicorn command from (setting, value) pairs, each flag spelled at random, and
    the value gunicorn would settle on for each setting (the last given)."""
    command, expected = ["gunicorn"], {}
    for key, value in draw(st.lists(st.tuples(st.sampled_from(sorted(_SPELLINGS)),
                                              st.from_regex(r"[a-z0-9:._]{1,8}", fullmatch=True)),
                                    max_size=8)):
        flag = draw(st.sampled_from(_SPELLINGS[key]))
        form = draw(st.sampled_from(["apart", "equals", "attached"] if len(flag) == 2 else ["apart", "equals"]))
        command += {"apart": [flag, value], "equals": [f"{flag}={value}"], "attached": [flag + value]}[form]
        if draw(st.booleans()):
            command += ["--bind", "127.0.0.1:1"]
        expected[key] = value
    return command + ["app:create()"], expected


@given(flagged_commands())
def test_gunicorn_flags_finds_the_last_value_of_each_setting(case):
    command, expected = case
    assert gunicorn_flags(command) == expected


@pytest.mark.parametrize("flags, config, expected", [
    ({}, {}, (1, 1, "sync")),  # gunicorn's own defaults
    ({}, {"workers": 2, "worker_class": "gevent", "post_request": print}, (2, 1, "gevent")),
    ({"workers": "3", "worker_class": "gthread"}, {"workers": 2, "worker_class": "gevent"},
     (3, 1, "gthread")),  # flags override the config module, as gunicorn does
    ({"threads": "4"}, {}, (1, 4, "gthread")),  # gunicorn runs sync workers with threads as gthread
])
def test_resolve(flags, config, expected):
    assert resolve(flags, config) == expected


def test_shipped_settings_are_the_config_compose_names(tmp_path):
    """The repository's compose.yaml names the config make demo and the tests use."""
    s = shipped_gunicorn_settings()
    assert s.config == IDP_CONFIG and MOCK_IDP_ARGS == ["--config", IDP_CONFIG]
    assert (s.workers, s.threads, s.worker_class) == (2, 1, "gevent")
    assert s.args() == ["--config", IDP_CONFIG, "--worker-class", "gevent"]
    assert s.source == f"compose.yaml, service idp: --config {IDP_CONFIG}"
    compose = tmp_path / "compose.yaml"
    compose.write_text('services:\n  idp:\n    command: ["gunicorn", "--config", '
                       '"python:mock_idp.gunicorn_conf", "--workers", "5", "app"]\n')
    assert shipped_gunicorn_settings(compose).workers == 5


def test_a_config_file_path_is_refused(tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text('services:\n  idp:\n    command: ["gunicorn", "-c", "gunicorn.conf.py"]\n')
    with pytest.raises(ComposeError, match="python:module"):
        shipped_gunicorn_settings(compose)


def test_missing_compose_falls_back_to_the_documented_assumption(tmp_path):
    s = shipped_gunicorn_settings(tmp_path / "compose.yaml")
    assert (s.workers, s.threads, s.worker_class, s.config) == (2, 1, "sync", None)
    assert "assumed" in s.source and s.args() == ["--worker-class", "sync"]


@pytest.mark.parametrize("workers, threads, worker_class, expected", [
    (2, 1, "gevent", "2 gevent workers"),
    (2, 1, "sync", "2 sync workers"),
    (2, 4, "gthread", "2 gthread workers x 4 threads"),
    (2, 1, "gthread", "2 gthread workers x 1 threads"),
])
def test_gunicorn_workers_says_threads_only_where_they_count(workers, threads, worker_class, expected):
    g = {"workers": workers, "threads": threads, "worker_class": worker_class}
    assert report.gunicorn_workers(g) == expected


def _results(**over):
    base = {
        "http": {"ours_token": {"connections": 32, "p99_ms": 12.0, "errors": 0},
                 "ours_token_flask": {"errors": 0}, "ours_users_me": {"errors": 0},
                 "ours_token_redis": {"p99_ms": 15.0, "errors": 0},
                 "ours_users_me_redis": {"p99_ms": 15.0, "errors": 0}},
        "ratios": {"token_vs_peer": 3.0, "token_vs_ceiling": 0.75, "token_redis_vs_sqlite": 0.9,
                   "users_me_redis_vs_sqlite": 0.85},
        "cli": {"ratios": {"users_me_get": 4.0}},
        "login": {f: {"warm": {"median_saved_ms": 250.0}, "cold": {"median_saved_ms": 2000.0}}
                  for f in ("implicit", "pkce")},
    }
    base.update(over)
    return base


def test_targets_all_pass_when_every_figure_is_within_its_target():
    targets = report.evaluate(_results())
    assert len(targets) == 15
    assert {t.status for t in targets} == {report.PASS}
    assert targets[2].name == "token endpoint p99 at 32 connections"


def test_targets_report_misses_and_unmeasured_parts():
    results = _results(ratios={"token_vs_peer": 2.0}, login={})
    status = {t.name: t.status for t in report.evaluate(results)}
    assert status["token endpoint vs peer (req/s)"] == report.MISS
    assert status["token endpoint vs Flask ceiling (req/s)"] == report.NOT_MEASURED
    assert status["pkce login, cold (command start -> profile saved)"] == report.NOT_MEASURED
    assert status["`users me get`, cached token, vs `python -c pass`"] == report.PASS


def test_the_redis_store_targets_miss_below_80_percent_and_over_20_ms():
    results = _results()
    results["ratios"]["token_redis_vs_sqlite"] = 0.79
    results["http"]["ours_users_me_redis"]["p99_ms"] = 20.0
    status = {t.name: t.status for t in report.evaluate(results)}
    assert status["token endpoint on Redis vs on SQLite (req/s)"] == report.MISS
    assert status["users/me on Redis vs on SQLite (req/s)"] == report.PASS
    assert status["users/me on Redis p99 at 32 connections"] == report.MISS
    assert status["token endpoint on Redis errors"] == report.PASS
    del results["http"]["ours_token_redis"]
    status = {t.name: t.status for t in report.evaluate(results)}
    assert status["token endpoint on Redis p99 at 32 connections"] == report.NOT_MEASURED


def test_any_error_misses_the_zero_errors_target():
    results = _results()
    results["http"]["ours_users_me"]["errors"] = 1
    errors = [t for t in report.evaluate(results) if t.name.startswith("errors")]
    assert errors[0].status == report.MISS and errors[0].measured == "1"


def _wrk(rps, p99=10.0, errors=0):
    return wrk.WrkResult(requests=int(rps * 8), duration_s=8.0, requests_per_s=rps, p50_ms=1.0,
                         p90_ms=5.0, p99_ms=p99, max_ms=p99 * 2, non2xx=errors, socket_errors=0,
                         connections=32, threads=2)


def test_ratios_are_taken_within_each_round_then_the_median():
    from bench.run import round_ratios

    http = {"ours_token": [_wrk(500), _wrk(900), _wrk(1000)],
            "peer_token": [_wrk(250), _wrk(600), _wrk(250)],
            "ceiling": [_wrk(1000)]}
    ratios = round_ratios(http)
    assert ratios["token_vs_peer"] == 2.0  # per round 2.0, 1.5, 4.0
    assert ratios["token_vs_ceiling"] == 0.5  # only the round both sides completed
    assert ratios["ceiling_vs_peer"] == 4.0
    assert "users_me_vs_ceiling" not in ratios


@pytest.mark.parametrize(("ceiling_vs_peer", "share"), [(2.5, "100%"), (2.5 / 0.7, "70%"), (2.63, "95%")])
def test_the_peer_target_is_restated_as_a_share_of_the_ceiling(ceiling_vs_peer, share):
    line = report.peer_target_in_ceiling_terms({"ceiling_vs_peer": ceiling_vs_peer})
    assert f"serves {ceiling_vs_peer:.2f}x the peer's" in line
    assert f"means {share} of the ceiling" in line


@pytest.mark.parametrize("ratio, verdict", [(1.15, "which clears"), (1.149, "which does not clear"),
                                            (1.57, "which clears")])
def test_the_report_says_whether_the_fast_path_earns_its_keep(ratio, verdict):
    line = report.fast_path_line({"token_fast_path_on_vs_off": ratio})
    assert f"{ratio:.2f}x the req/s of plain Flask + Authlib, {verdict} the 1.15x" in line
    assert report.fast_path_line({"token_vs_peer": 3.0}) is None


@pytest.mark.parametrize("ratios", [{}, {"ceiling_vs_peer": 0.0}, {"token_vs_peer": 2.0}])
def test_no_restatement_without_both_the_ceiling_and_the_peer(ratios):
    assert report.peer_target_in_ceiling_terms(ratios) is None


def test_the_markdown_report_carries_the_restatement():
    results = {"date": "d", "mode": "full", "targets": [], "gunicorn": {"workers": 2, "threads": 1, "worker_class": "gevent", "source": "s"},
               "settings": {"wrk_threads": 2, "wrk_connections": 32, "wrk_warmup_s": 1, "wrk_duration_s": 4,
                            "cli_runs": 30, "cli_warmup_runs": 3, "login_runs": 10},
               "machine": {"cpus": 2, "cpu": "c", "python": "3", "node": "n", "wrk": "w", "chromium": "c",
                           "load_average_at_start": 0.1},
               "http": {}, "ratios": {"token_vs_peer": 2.0, "ceiling_vs_peer": 2.5}}
    assert "2.5x the peer means 100% of the ceiling" in report.render_markdown(results)


def test_aggregate_takes_medians_of_rates_and_sums_errors():
    from bench.run import aggregate

    agg = aggregate([_wrk(100, p99=30, errors=1), _wrk(300, p99=10), _wrk(200, p99=20, errors=2)])
    assert (agg["requests_per_s"], agg["p99_ms"], agg["errors"], agg["rounds"]) == (200, 20, 3, 3)
    assert agg["max_ms"] == 60 and len(agg["per_round"]) == 3


# --- the server's CPU, from /proc -----------------------------------------------------

def _stat(pid: int, name: str, ppid: int, utime: int, stime: int) -> str:
    rest = [ppid, 1, 1, 0, -1, 4194560, 100, 0, 0, 0, utime, stime, 0, 0, 20, 0, 1, 0, 5]
    return f"{pid} ({name}) S " + " ".join(str(v) for v in rest) + "\n"


@pytest.mark.parametrize("name", ["gunicorn", "node", "a b", "x) (y", ")", "((("])
def test_parse_stat_reads_parent_and_cpu_past_any_command_name(name):
    assert proc_cpu.parse_stat(_stat(42, name, 7, 120, 30)) == (7, 150)


@pytest.mark.parametrize("line", ["", "42 gunicorn S 1 2", "42 (x) S 1 2 3", "no paren)"])
def test_parse_stat_rejects_other_lines(line):
    with pytest.raises(ValueError):
        proc_cpu.parse_stat(line)


@settings(max_examples=200)
@given(st.dictionaries(st.integers(1, 30), st.tuples(st.integers(0, 30), st.integers(0, 1000)),
                       max_size=25), st.integers(1, 30))
def test_tree_ticks_sums_the_root_and_its_descendants(stats, root):
    def under_root(pid: int) -> bool:
        seen = set()
        while pid in stats and pid not in seen:
            if pid == root:
                return True
            seen.add(pid)
            pid = stats[pid][0]
        return False
    expected = sum(ticks for pid, (_ppid, ticks) in stats.items() if under_root(pid))
    assert proc_cpu.tree_ticks(root, stats) == expected


@pytest.mark.slow
def test_tree_cpu_seconds_counts_a_busy_child():
    import subprocess
    import sys

    burn = ("import sys, time\n"
            "while time.process_time() < 0.3: pass\n"
            "print('burnt', flush=True); sys.stdin.read()\n")
    before = proc_cpu.tree_cpu_seconds(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", burn], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "burnt\n"
        assert proc_cpu.tree_cpu_seconds(os.getpid()) - before >= 0.25
        assert proc_cpu.tree_cpu_seconds(child.pid) >= 0.25
    finally:
        child.communicate(timeout=30)
