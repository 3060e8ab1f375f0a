"""Targets from issue 6 checked against one run's figures; reports/bench.{md,json,png}."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import fixture_cost

PASS, MISS, NOT_MEASURED = "pass", "miss", "not measured"
PEER_TARGET = 2.5  # token req/s over the peer's
CEILING_TARGET = 0.70  # token req/s over the Flask ceiling's


@dataclass(frozen=True)
class Target:
    name: str
    wanted: str
    measured: str
    status: str


def _get(results: dict, *path: str) -> Any:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _check(name: str, wanted: str, value: float | None, ok, fmt: str) -> Target:
    if value is None:
        return Target(name, wanted, "-", NOT_MEASURED)
    return Target(name, wanted, fmt.format(value), PASS if ok(value) else MISS)


def evaluate(results: dict) -> list[Target]:
    """Every target of issue 6, each pass, miss or not measured (never silently dropped)."""
    conns = _get(results, "http", "ours_token", "connections")
    ours = [_get(results, "http", k, "errors") for k in ("ours_token", "ours_token_flask", "ours_users_me")]
    errors = None if None in ours else sum(ours)
    targets = [
        _check("token endpoint vs peer (req/s)", f">= {PEER_TARGET}x",
               _get(results, "ratios", "token_vs_peer"), lambda v: v >= PEER_TARGET, "{:.2f}x"),
        _check("token endpoint vs Flask ceiling (req/s)", f">= {CEILING_TARGET:.0%}",
               _get(results, "ratios", "token_vs_ceiling"), lambda v: v >= CEILING_TARGET, "{:.1%}"),
        _check(f"token endpoint p99 at {conns or '?'} connections", "< 20 ms",
               _get(results, "http", "ours_token", "p99_ms"), lambda v: v < 20, "{:.1f} ms"),
        _check("errors (token both ways + users/me, non-2xx and socket)", "0",
               errors, lambda v: v == 0, "{:d}"),
        _check("`users me get`, cached token, vs `python -c pass`", "<= 5x",
               _get(results, "cli", "ratios", "users_me_get"), lambda v: v <= 5, "{:.2f}x"),
    ]
    # Issue 20: the Redis store next to SQLite, same workers (not in the errors sum above:
    # a run without redis-server still evaluates issue 6's targets as before).
    for key, ratio, label in (("ours_token_redis", "token_redis_vs_sqlite", "token endpoint"),
                              ("ours_users_me_redis", "users_me_redis_vs_sqlite", "users/me")):
        targets.append(_check(f"{label} on Redis vs on SQLite (req/s)", ">= 80%",
                              _get(results, "ratios", ratio), lambda v: v >= 0.8, "{:.1%}"))
        targets.append(_check(f"{label} on Redis p99 at {conns or '?'} connections", "< 20 ms",
                              _get(results, "http", key, "p99_ms"), lambda v: v < 20, "{:.1f} ms"))
        targets.append(_check(f"{label} on Redis errors", "0",
                              _get(results, "http", key, "errors"), lambda v: v == 0, "{:d}"))
    for flow in ("implicit", "pkce"):
        targets.append(_check(f"{flow} login, warm browser (authorize URL -> profile saved)",
                              "< 300 ms", _get(results, "login", flow, "warm", "median_saved_ms"),
                              lambda v: v < 300, "{:.0f} ms"))
        targets.append(_check(f"{flow} login, cold (command start -> profile saved)", "< 2500 ms",
                              _get(results, "login", flow, "cold", "median_saved_ms"),
                              lambda v: v < 2500, "{:.0f} ms"))
    return targets


def peer_target_in_ceiling_terms(ratios: dict[str, float]) -> str | None:
    """The peer target restated as a share of the Flask ceiling, on this run's machine.

    The two throughput targets coincide only where the ceiling serves about 3.6x the peer.
    The peer's cost is mostly an RSA signature per token, whose speed relative to Python's
    differs between CPUs, so on some machines 2.5x the peer asks for nearly the whole
    ceiling: the report says so rather than leave a miss unexplained.
    """
    ceiling_vs_peer = ratios.get("ceiling_vs_peer")
    if not ceiling_vs_peer:
        return None
    share = PEER_TARGET / ceiling_vs_peer
    return (f"On this machine the Flask ceiling serves {ceiling_vs_peer:.2f}x the peer's req/s, "
            f"so {PEER_TARGET}x the peer means {share:.0%} of the ceiling "
            f"(the ceiling target asks for {CEILING_TARGET:.0%}).")


FAST_PATH_WORTH = 1.15  # issue 14: the token fast path stays only if it buys this much


def fast_path_line(ratios: dict[str, float]) -> str | None:
    """What the token fast path bought in this run, against the bar it has to clear."""
    ratio = ratios.get("token_fast_path_on_vs_off")
    if ratio is None:
        return None
    verdict = "clears" if ratio >= FAST_PATH_WORTH else "does not clear"
    return (f"Token fast path: {ratio:.2f}x the req/s of plain Flask + Authlib, which "
            f"{verdict} the {FAST_PATH_WORTH:.2f}x it must buy to be kept (docs/performance.md).")


def _http_rows(results: dict) -> list[str]:
    labels = {"ours_token": "mock IdP POST /oauth/token (client credentials)",
              "ours_token_flask": "the same, token fast path off (MOCK_IDP_TOKEN_FAST_PATH=0)",
              "ours_token_redis": "the same, on the Redis store (MOCK_IDP_STORE)",
              "ours_users_me": "mock IdP GET /api/v2/users/me",
              "ours_users_me_redis": "the same, on the Redis store (MOCK_IDP_STORE)",
              "peer_token": "peer oauth2-mock-server POST /token",
              "ceiling": "Flask \"ok\" route (ceiling)"}
    rows = ["| endpoint | req/s | p50 ms | p99 ms | non-2xx | socket errors | server CPU us/request |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for key, label in labels.items():
        r = _get(results, "http", key)
        if r is None:
            rows.append(f"| {label} | not measured | | | | | |")
        else:
            cpu = r.get("server_cpu_us_per_request")
            rows.append(f"| {label} | {r['requests_per_s']:.0f} | {r['p50_ms']:.1f} | "
                        f"{r['p99_ms']:.1f} | {r['non2xx']} | {r['socket_errors']} | "
                        f"{'-' if cpu is None else f'{cpu:.0f}'} |")
    return rows


def gunicorn_workers(g: dict) -> str:
    """"2 gevent workers", or "2 gthread workers x 4 threads" where threads matter."""
    threads = f" x {g['threads']} threads" if g["threads"] > 1 or g["worker_class"] == "gthread" else ""
    return f"{g['workers']} {g['worker_class']} workers{threads}"


def render_markdown(results: dict) -> str:
    s = results["settings"]
    g = results["gunicorn"]
    m = results["machine"]
    out = [f"# Benchmark report ({results['mode']} run)", "",
           f"{results['date']} on {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, "
           f"{m['node']}, {m['wrk']}, {m['chromium']}. All servers on 127.0.0.1. "
           f"1-minute load average {m['load_average_at_start']} at start, "
           f"{m.get('load_average_at_end', '?')} at end (above {m['cpus']} means other work "
           "shared the CPUs: compare ratios, not absolute figures).", "",
           f"gunicorn: {gunicorn_workers(g)} ({g['source']}); "
           f"wrk: {s['wrk_threads']} threads, {s['wrk_connections']} connections, "
           f"{s['wrk_warmup_s']} s warm-up then {s['wrk_duration_s']} s measured; "
           f"CLI: median of {s['cli_runs']} runs after {s['cli_warmup_runs']} warm-up; "
           f"logins: median of {s['login_runs']} per flow and mode.", "",
           "## Targets", "", "| target | wanted | measured | result |", "|---|---|---|---|"]
    out += [f"| {t['name']} | {t['wanted']} | {t['measured']} | {t['status']} |"
            for t in results["targets"]]
    out += ["", "## HTTP throughput and latency", ""] + _http_rows(results)
    out += ["", "Server CPU: user + system time of the server's processes (gunicorn's master "
            "and workers; node) over the measured seconds, per request served. It moves less "
            "than req/s when wrk and the server share the CPUs."]
    ratios = results.get("ratios", {})
    if ratios:
        out += ["", "Ratios (per round, median over rounds): "
                + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items())]
        fast = fast_path_line(ratios)
        if fast:
            out += ["", fast]
        restated = peer_target_in_ceiling_terms(ratios)
        if restated:
            out += ["", restated]
    out += ["", "## CLI wall time", "", "| command | median ms | ratio to floor |", "|---|---:|---:|"]
    for key, timing in results.get("cli", {}).items():
        if key == "ratios":
            continue
        ratio = results["cli"].get("ratios", {}).get(key)
        out.append(f"| `{timing['label']}` | {timing['median_ms']:.1f} | "
                   f"{'1.00 (floor)' if key == 'floor' else f'{ratio:.2f}x' if ratio else '-'} |")
    out += ["", "## Logins (headless chromium)", "",
            "Medians in ms. Stages: (a) command start to authorize URL printed (cold only), "
            "(b) browser launch (cold only), (c) login page loaded (new tab, navigation to "
            "DOMContentLoaded), (d) credentials typed through the keyboard (focus, username, Tab, "
            "password; counted against the target), (e) Enter to profile saved "
            "(mock login, redirect, loopback server, code exchange for PKCE, config write). "
            "Each flow's browser floor does the same navigations and keystrokes against two "
            "servers that do nothing (bench/browser_floor.py), right after each warm login; its "
            "(e) ends when the response reaches the callback server (PKCE: the redirect's GET; "
            "implicit: the relay page's POST).", "",
            "| flow | mode | runs | to profile saved | to exit | (a) | (b) | (c) | (d) | (e) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for flow, modes in results.get("login", {}).items():
        for mode, agg in modes.items():
            label = f"browser floor, {flow[6:]}" if flow.startswith("floor_") else flow
            out.append(f"| {label} | {mode} | {agg['runs']} | {agg['median_saved_ms']:.0f} | "
                       f"{agg['median_exited_ms']:.0f} | "
                       + " | ".join(f"{v:.0f}" for v in agg["median_stages_ms"].values()) + " |")
    above = []
    for flow in ("implicit", "pkce"):
        ours = _get(results, "login", flow, "warm", "median_saved_ms")
        floor = _get(results, "login", f"floor_{flow}", "warm", "median_saved_ms")
        if ours is not None and floor is not None:
            above.append(f"{flow} {ours:.0f} ms = floor {floor:.0f} ms + {ours - floor:.0f} ms")
    if above:
        out += ["", "Warm logins over their browser floor (the rest is ours: IdP, CLI, config "
                "write): " + "; ".join(above) + "."]
    out += fixture_cost.markdown(results)
    if results.get("failures"):
        out += ["", "## Not measured", ""]
        out += [f"- {f['part']}: {f['error']}" for f in results["failures"]]
    if results.get("chart"):
        out += ["", f"![benchmark chart]({results['chart']})"]
    return "\n".join(out) + "\n"


def write(results: dict, out_dir: Path) -> list[Path]:
    """bench.json, bench.md and (when matplotlib is installed) bench.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results["targets"] = [asdict(t) for t in evaluate(results)]
    written = []
    png = out_dir / "bench.png"
    try:
        from bench.chart import draw
    except ImportError:
        results["chart"] = None
        results.setdefault("failures", []).append(
            {"part": "chart", "error": "matplotlib is not installed (`make bench` installs it)"})
    else:
        draw(results, png)
        results["chart"] = png.name
        written.append(png)
    (out_dir / "bench.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out_dir / "bench.md").write_text(render_markdown(results), encoding="utf-8")
    return [out_dir / "bench.json", out_dir / "bench.md", *written]
