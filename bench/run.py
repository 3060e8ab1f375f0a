"""One benchmark run: start each server, measure, stop it, write the reports.

A part that cannot be measured (a server missing, a login failing) is recorded with
its reason and shows as "not measured" in the targets; the other parts still run.
"""
from __future__ import annotations

import base64
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from tests.support.servers import free_port

from bench import cli_timing, fixtures, login, report, servers, wrk
from bench.settings import Settings, shipped_gunicorn_settings

FORM = "application/x-www-form-urlencoded"


def _version(cmd: list[str], pattern: str = r"(\S+ v?\d[\w.+~/-]*)") -> str:
    """The first "name version" in a tool's --version output."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    found = re.search(pattern, done.stdout or done.stderr or "")
    return found.group(1) if found else "unavailable"


def machine() -> dict:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "node": "node " + _version([servers.NODE, "--version"], r"(v[\d.]+)"), "wrk": _version(["wrk", "--version"], r"(wrk \S+)"),
            "chromium": _version([login.CHROMIUM, "--version"])}


class Run:
    """Collects figures and failures for one run."""

    def __init__(self, settings: Settings, out_dir: Path, log: Callable[[str], None]):
        self.settings = settings
        self.out_dir = out_dir
        self.log = log
        self.gunicorn = shipped_gunicorn_settings()
        self.results: dict = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": settings.name, "machine": machine(), "settings": vars(settings).copy(),
            "gunicorn": vars(self.gunicorn).copy(), "http": {}, "ratios": {}, "cli": {},
            "login": {}, "failures": []}

    def part(self, name: str, fn: Callable[[], None]) -> None:
        self.log(f"bench: {name}")
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - recorded, reported, and fails the run
            self.results["failures"].append({"part": name, "error": f"{type(exc).__name__}: {exc}"})
            self.log(f"bench: {name} not measured: {type(exc).__name__}: {exc}")
            if os.environ.get("BENCH_DEBUG"):
                traceback.print_exc()

    def wrk(self, key: str, url: str, request: wrk.Request) -> None:
        s = self.settings
        result = wrk.run(url, request, s.wrk_duration_s, s.wrk_connections, s.wrk_threads,
                         s.wrk_warmup_s)
        self.results["http"][key] = result.to_json()
        self.log(f"bench:   {key}: {result.requests_per_s:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                 f"p99 {result.p99_ms:.1f} ms, errors {result.errors}")

    def cli_env(self, world: fixtures.World) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("GENESYSCLOUD_", "GCLOGIN_", "MOCK_IDP_", "SERVICE_"))}
        return {**keep, "HOME": str(world.home)}

    def execute(self) -> int:
        root = Path(tempfile.mkdtemp(prefix="gclogin-bench-"))  # 0700
        try:
            world = fixtures.make_world(root, redirect_port=free_port())
            self.part("mock IdP", lambda: self._ours(world))
            self.part("peer oauth2-mock-server", lambda: self._peer(root))
            self.part("Flask ceiling", lambda: self._ceiling(root))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        self._ratios()
        written = report.write(self.results, self.out_dir)
        self.log("bench: wrote " + ", ".join(str(p) for p in written))
        for t in self.results["targets"]:
            self.log(f"bench:   {t['status']:>12}  {t['name']}: {t['measured']} (wanted {t['wanted']})")
        measured = [f for f in self.results["failures"] if f["part"] != "chart"]
        return 1 if measured else 0

    def _ours(self, world: fixtures.World) -> None:
        with servers.mock_idp(world.seed, world.db, self.gunicorn,
                              self.out_dir / "bench-mock-idp.log") as base:
            fixtures.point_config_at(world, base)
            env = self.cli_env(world)
            basic = base64.b64encode(f"{world.cc_client_id}:{world.cc_secret}".encode()).decode()
            self.part("mock IdP token endpoint", lambda: self.wrk(
                "ours_token", base + "/oauth/token",
                wrk.Request("POST", "grant_type=client_credentials", FORM, "Basic " + basic)))
            self.part("logins", lambda: self._logins(world, env))
            token = fixtures.cached_token(world.config, fixtures.PROFILES["pkce"][0])
            if not token:
                raise RuntimeError("no user token: the logins did not save one, so users/me "
                                   "and `users me get` are not measured")
            self.part("mock IdP users/me", lambda: self.wrk(
                "ours_users_me", base + "/api/v2/users/me",
                wrk.Request("GET", authorization="Bearer " + token)))
            self.part("CLI", lambda: self._cli(world, env))

    def _logins(self, world: fixtures.World, env: dict[str, str]) -> None:
        s = self.settings
        flows = {flow: names[0] for flow, names in fixtures.PROFILES.items()}
        runs = login.run_logins(flows=flows, config=world.config, env=env,
                                username=world.username, password=world.password,
                                runs=s.login_runs, timeout=s.login_timeout_s)
        for flow in flows:
            self.results["login"][flow] = {}
            for mode in ("warm", "cold"):
                mine = [r for r in runs if r.flow == flow and r.mode == mode]
                saved = sorted(r.saved_ms for r in mine)
                exited = sorted(r.exited_ms for r in mine)
                agg = {"runs": len(mine), "median_saved_ms": _median(saved),
                       "median_exited_ms": _median(exited), "saved_ms": saved}
                self.results["login"][flow][mode] = agg
                self.log(f"bench:   {flow} {mode}: {agg['median_saved_ms']:.0f} ms to profile saved")

    def _cli(self, world: fixtures.World, env: dict[str, str]) -> None:
        s = self.settings
        cfg = str(world.config)
        profile = fixtures.PROFILES["pkce"][0]
        commands = {"floor": cli_timing.floor(),
                    "users_me_get": cli_timing.gclogin("--config", cfg, "users", "me", "get", "-p", profile),
                    "profiles_list": cli_timing.gclogin("--config", cfg, "profiles", "list")}
        labels = {"floor": "python -c pass", "users_me_get": f"gclogin users me get -p {profile}",
                  "profiles_list": "gclogin profiles list"}
        for key, argv in commands.items():
            timing = cli_timing.time_command(labels[key], argv, env, s.cli_runs, s.cli_warmup_runs)
            self.results["cli"][key] = timing.to_json()
            self.log(f"bench:   {labels[key]}: median {timing.median_ms:.1f} ms")
        floor = self.results["cli"]["floor"]["median_ms"]
        self.results["cli"]["ratios"] = {k: self.results["cli"][k]["median_ms"] / floor
                                         for k in ("users_me_get", "profiles_list")}

    def _peer(self, root: Path) -> None:
        with servers.peer(self.out_dir / "bench-peer.log") as base:
            basic = base64.b64encode(b"bench-peer-client:bench-peer-secret").decode()
            self.wrk("peer_token", base + "/token",
                     wrk.Request("POST", "grant_type=client_credentials", FORM, "Basic " + basic))

    def _ceiling(self, root: Path) -> None:
        with servers.ceiling(self.gunicorn, self.out_dir / "bench-ceiling.log") as base:
            self.wrk("ceiling", base + "/", wrk.Request("GET"))

    def _ratios(self) -> None:
        http = self.results["http"]

        def rps(key: str) -> float | None:
            return http[key]["requests_per_s"] if key in http else None

        pairs = {"token_vs_peer": ("ours_token", "peer_token"),
                 "token_vs_ceiling": ("ours_token", "ceiling"),
                 "users_me_vs_ceiling": ("ours_users_me", "ceiling")}
        for name, (a, b) in pairs.items():
            if rps(a) is not None and rps(b):
                self.results["ratios"][name] = rps(a) / rps(b)


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


def main(settings: Settings, out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    return Run(settings, out_dir, lambda msg: print(msg, file=sys.stderr, flush=True)).execute()
