"""One benchmark run: start every server, measure, stop them all, write the reports.

The HTTP figures come in rounds: each round measures our token endpoint (with the token
fast path on, on the Redis store (a third mock IdP, MOCK_IDP_STORE on a private
redis-server), then fast path off: a second mock IdP with MOCK_IDP_TOKEN_FAST_PATH=0),
our users/me on SQLite and on Redis,
the peer and the Flask ceiling one after the other, and ratios are taken within a round
(median over rounds), so load from elsewhere on the machine skews both sides alike.
A part that cannot be measured is recorded with its reason, shows as "not measured"
in the targets, and makes the run exit 1; the other parts still run.
"""
from __future__ import annotations

import base64
import contextlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, UTC
from pathlib import Path

from devtools.redis_server import redis_server
from devtools.servers import free_port

from bench import cli_timing, fixture_cost, fixtures, login, report, servers, wrk
from bench.settings import REPO, Settings, shipped_gunicorn_settings

FORM = "application/x-www-form-urlencoded"
# (numerator, denominator) of each throughput ratio.
RATIOS = {"token_vs_peer": ("ours_token", "peer_token"),
          "token_vs_ceiling": ("ours_token", "ceiling"),
          "users_me_vs_ceiling": ("ours_users_me", "ceiling"),
          # Not a target: what the token fast path buys (kept only at >= 1.15, issue 14).
          "token_fast_path_on_vs_off": ("ours_token", "ours_token_flask"),
          # The Redis store next to the SQLite one, same workers (issue 20: >= 0.8 each).
          "token_redis_vs_sqlite": ("ours_token_redis", "ours_token"),
          "users_me_redis_vs_sqlite": ("ours_users_me_redis", "ours_users_me"),
          # Not a target: how far apart the two throughput targets are on this machine.
          "ceiling_vs_peer": ("ceiling", "peer_token")}


def _version(cmd: list[str], pattern: str) -> str:
    """The part of a tool's --version output that pattern picks out."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    found = re.search(pattern, done.stdout or done.stderr or "")
    return found.group(1) if found else "unavailable"


def machine() -> dict:
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "node": "node " + _version([servers.NODE, "--version"], r"(v[\d.]+)"),
            "wrk": _version(["wrk", "--version"], r"(wrk \S+)"),
            "chromium": _version([login.CHROMIUM, "--version"], r"(Chromium \S+)"),
            "load_average_at_start": round(os.getloadavg()[0], 2)}


def aggregate(rounds: list[wrk.WrkResult]) -> dict:
    """Medians over rounds for rates and percentiles; totals for requests and errors."""
    def med(attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in rounds)
    cpu = [r.server_cpu_us_per_request for r in rounds]

    return {"rounds": len(rounds), "requests": sum(r.requests for r in rounds),
            "requests_per_s": med("requests_per_s"), "p50_ms": med("p50_ms"),
            "p90_ms": med("p90_ms"), "p99_ms": med("p99_ms"),
            "max_ms": max(r.max_ms for r in rounds),
            "non2xx": sum(r.non2xx for r in rounds),
            "socket_errors": sum(r.socket_errors for r in rounds),
            "errors": sum(r.errors for r in rounds),
            "server_cpu_us_per_request": statistics.median(cpu) if None not in cpu else None,
            "connections": rounds[0].connections, "threads": rounds[0].threads,
            "per_round": [r.to_json() for r in rounds]}


def round_ratios(http: dict[str, list[wrk.WrkResult]]) -> dict[str, float]:
    """Each ratio per round, then the median over the rounds both sides completed."""
    out = {}
    for name, (a, b) in RATIOS.items():
        pairs = list(zip(http.get(a, []), http.get(b, []), strict=False))
        values = [x.requests_per_s / y.requests_per_s for x, y in pairs if y.requests_per_s]
        if values:
            out[name] = statistics.median(values)
    return out


class Run:
    """Collects figures and failures for one run."""

    def __init__(self, settings: Settings, out_dir: Path, log: Callable[[str], None]):
        self.settings = settings
        self.out_dir = out_dir
        self.log = log
        self.gunicorn = shipped_gunicorn_settings()
        self.results: dict = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": settings.name, "machine": machine(), "settings": vars(settings).copy(),
            "gunicorn": vars(self.gunicorn).copy(), "http": {}, "ratios": {}, "cli": {},
            "login": {}, "failures": []}

    def fail(self, part: str, exc: BaseException) -> None:
        self.results["failures"].append({"part": part, "error": f"{type(exc).__name__}: {exc}"})
        self.log(f"bench: {part} not measured: {type(exc).__name__}: {exc}")
        if os.environ.get("BENCH_DEBUG"):
            traceback.print_exception(exc)

    def part(self, name: str, fn: Callable[[], None]) -> None:
        self.log(f"bench: {name}")
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - recorded, reported, and fails the run
            self.fail(name, exc)

    def start(self, stack: contextlib.ExitStack, name: str, server) -> servers.Server | None:
        """Enter a server's context on the stack; None (and a recorded failure) if it fails."""
        self.log(f"bench: starting {name}")
        try:
            return stack.enter_context(server)
        except Exception as exc:  # noqa: BLE001
            self.fail(name, exc)
            return None

    def execute(self) -> int:
        root = Path(tempfile.mkdtemp(prefix="gclogin-bench-"))  # 0700: holds the bench secrets
        self.part("fixture", lambda: self.results.update(fixture=fixture_cost.measure(self.settings.cli_runs * 10)))
        try:
            cli_timing.compile_bytecode(REPO / "service", REPO / "mock_idp")  # timed as installed
            world = fixtures.make_world(root, redirect_port=free_port())
            with contextlib.ExitStack() as stack:
                ours = self.start(stack, "mock IdP", servers.mock_idp(
                    world.seed, world.db, self.gunicorn, self.out_dir / "bench-mock-idp.log"))
                flask_path = self.start(stack, "mock IdP, token fast path off", servers.mock_idp(
                    world.seed, world.root / "idp-flask-path.sqlite3", self.gunicorn,
                    self.out_dir / "bench-mock-idp-flask-path.log", token_fast_path=False))
                redis = self.start(stack, "redis-server", redis_server(world.root / "redis"))
                on_redis = redis and self.start(stack, "mock IdP on Redis", servers.mock_idp(
                    world.seed, world.root / "idp-unused.sqlite3", self.gunicorn,
                    self.out_dir / "bench-mock-idp-redis.log", store=redis.url))
                peer = self.start(stack, "peer oauth2-mock-server",
                                  servers.peer(self.out_dir / "bench-peer.log"))
                ceiling = self.start(stack, "Flask ceiling", servers.ceiling(
                    self.gunicorn, self.out_dir / "bench-ceiling.log"))
                targets: dict[str, tuple[servers.Server, str, wrk.Request]] = {}
                basic = base64.b64encode(f"{world.cc_client_id}:{world.cc_secret}".encode()).decode()
                token_request = wrk.Request("POST", "grant_type=client_credentials", FORM, "Basic " + basic)
                # The two token rows one after the other in each round: their ratio is
                # what the fast path is worth.
                for key, server in (("ours_token", ours), ("ours_token_redis", on_redis),
                                    ("ours_token_flask", flask_path)):
                    if server:
                        targets[key] = (server, "/oauth/token", token_request)
                if ours:
                    fixtures.point_config_at(world, ours.base)
                    env = self.cli_env(world)
                    self.part("logins", lambda: self._logins(world, env))
                    token = fixtures.cached_token(world.config, fixtures.PROFILES["pkce"][0])
                    if token:
                        targets["ours_users_me"] = (ours, "/api/v2/users/me",
                                                    wrk.Request("GET", authorization="Bearer " + token))
                        if redis and on_redis:
                            self.part("a user token on Redis", lambda: targets.update(
                                ours_users_me_redis=(on_redis, "/api/v2/users/me", wrk.Request(
                                    "GET", authorization="Bearer " + user_token_on_redis(
                                        redis.url, world)))))
                        self.part("CLI", lambda: self._cli(world, env))
                    else:
                        self.fail("users/me and `users me get`",
                                  RuntimeError("no login saved a user token to use"))
                if peer:
                    basic = base64.b64encode(b"bench-peer-client:bench-peer-secret").decode()
                    targets["peer_token"] = (peer, "/token", wrk.Request(
                        "POST", "grant_type=client_credentials", FORM, "Basic " + basic))
                if ceiling:
                    targets["ceiling"] = (ceiling, "/", wrk.Request("GET"))
                self.part("HTTP", lambda: self._http(targets))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        self.results["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
        written = report.write(self.results, self.out_dir)
        self.log("bench: wrote " + ", ".join(str(p) for p in written))
        for t in self.results["targets"]:
            self.log(f"bench: {t['status']:>12}  {t['name']}: {t['measured']} (wanted {t['wanted']})")
        return 1 if [f for f in self.results["failures"] if f["part"] != "chart"] else 0

    def cli_env(self, world: fixtures.World) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("GENESYSCLOUD_", "GCLOGIN_", "MOCK_IDP_", "SERVICE_"))}
        return {**keep, "HOME": str(world.home)}

    def _http(self, targets: dict[str, tuple[servers.Server, str, wrk.Request]]) -> None:
        s = self.settings
        done: dict[str, list[wrk.WrkResult]] = {key: [] for key in targets}
        for n in range(1, s.wrk_rounds + 1):
            for key, (server, path, request) in targets.items():
                if key not in done:
                    continue
                try:
                    r = wrk.run(server.base + path, request, s.wrk_duration_s, s.wrk_connections,
                                s.wrk_threads, s.wrk_warmup_s, server_cpu=server.cpu_seconds)
                except wrk.WrkError as exc:
                    self.fail(key, exc)
                    del done[key]
                    continue
                done[key].append(r)
                self.log(f"bench:   round {n} {key}: {r.requests_per_s:.0f} req/s, "
                         f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, errors {r.errors}, "
                         f"server CPU {r.server_cpu_us_per_request or 0:.0f} us/request")
        self.results["http"] = {key: aggregate(rounds) for key, rounds in done.items() if rounds}
        self.results["ratios"] = round_ratios(done)

    def _logins(self, world: fixtures.World, env: dict[str, str]) -> None:
        s = self.settings
        flows = {flow: names[0] for flow, names in fixtures.PROFILES.items()}
        runs = login.run_logins(flows=flows, config=world.config, env=env,
                                username=world.username, password=world.password,
                                runs=s.login_runs, timeout=s.login_timeout_s,
                                warmup=s.login_warmup)
        for flow in [*flows, *(f"floor_{f}" for f in flows)]:
            self.results["login"][flow] = {}
            for mode in ("warm",) if flow.startswith("floor_") else ("warm", "cold"):
                mine = [r for r in runs if r.flow == flow and r.mode == mode]
                agg = {"runs": len(mine),
                       "median_saved_ms": statistics.median(r.saved_ms for r in mine),
                       "median_exited_ms": statistics.median(r.exited_ms for r in mine),
                       "saved_ms": sorted(r.saved_ms for r in mine),
                       "median_stages_ms": {name: statistics.median(r.stages_ms[name] for r in mine)
                                            for name in login.STAGES}}
                self.results["login"][flow][mode] = agg
                self.log(f"bench:   {flow} {mode}: {agg['median_saved_ms']:.0f} ms to profile saved")

    def _cli(self, world: fixtures.World, env: dict[str, str]) -> None:
        s = self.settings
        cfg = str(world.config)
        profile = fixtures.PROFILES["pkce"][0]
        commands = {
            "floor": ("python -c pass", cli_timing.floor()),
            "users_me_get": (f"gclogin users me get -p {profile}",
                             cli_timing.gclogin("--config", cfg, "users", "me", "get", "-p", profile)),
            "profiles_list": ("gclogin profiles list",
                              cli_timing.gclogin("--config", cfg, "profiles", "list")),
        }
        timings = cli_timing.time_commands(commands, env, s.cli_runs, s.cli_warmup_runs)
        for key, timing in timings.items():
            self.results["cli"][key] = timing.to_json()
            self.log(f"bench:   {timing.label}: median {timing.median_ms:.1f} ms")
        floor = self.results["cli"]["floor"]["median_ms"]
        self.results["cli"]["ratios"] = {k: self.results["cli"][k]["median_ms"] / floor
                                         for k in ("users_me_get", "profiles_list")}


def user_token_on_redis(url: str, world: fixtures.World) -> str:
    """A code-flow token for the bench user, signed with the Redis store's key (the
    SQLite mock's login token does not verify there), issued as the mock would."""
    from mock_idp.redis_store import RedisStore
    from mock_idp.seed import load_seed

    seed = load_seed(world.seed)
    user = next(u for u in seed.users if u.username == world.username)
    client_id = next(c.id for c in seed.clients if c.authorized_grant_type == "CODE")
    store = RedisStore(url, time.time, loopback_any_port=True)
    try:
        client = store.get_client(client_id)
        assert client is not None
        return store.issue_token(client, user_id=user.id, grant_type="authorization_code",
                                 scope="", expires_in=3600)
    finally:
        store.close()


def main(settings: Settings, out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    return Run(settings, out_dir, lambda msg: print(msg, file=sys.stderr, flush=True)).execute()
