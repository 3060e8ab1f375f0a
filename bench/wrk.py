"""Drive wrk against one endpoint and read back the JSON line bench/report.lua prints."""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

SCRIPT = Path(__file__).with_name("report.lua")
MARKER = "BENCH_RESULT "


class WrkError(RuntimeError):
    """wrk failed or printed no result line."""


@dataclass(frozen=True)
class Request:
    """One request shape. authorization is passed through the environment, never argv."""

    method: str = "GET"
    body: str = ""
    content_type: str = ""
    authorization: str = ""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int
    connections: int
    threads: int
    # The server's CPU (all its processes) over the measured run, per request served.
    server_cpu_us_per_request: float | None = None

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors

    def to_json(self) -> dict:
        return {**asdict(self), "errors": self.errors}


def parse_output(stdout: str, connections: int, threads: int) -> WrkResult:
    """The result line from wrk's output; WrkError if there is none or it is malformed."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith(MARKER)]
    if len(lines) != 1:
        raise WrkError(f"expected one {MARKER.strip()} line from wrk, got {len(lines)}")
    try:
        raw = json.loads(lines[0][len(MARKER):])
        duration_s = raw["duration_us"] / 1e6
        lat = raw["latency_us"]
        return WrkResult(
            requests=int(raw["requests"]),
            duration_s=duration_s,
            requests_per_s=raw["requests"] / duration_s if duration_s > 0 else 0.0,
            p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000,
            p99_ms=lat["p99"] / 1000, max_ms=lat["max"] / 1000,
            non2xx=int(raw["non2xx"]),
            socket_errors=sum(int(v) for v in raw["socket_errors"].values()),
            connections=connections, threads=threads,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WrkError(f"malformed wrk result line: {exc!r}") from None


def run(url: str, request: Request, duration_s: int, connections: int, threads: int,
        warmup_s: int = 0, server_cpu: Callable[[], float] | None = None) -> WrkResult:
    """Warm up (results discarded), then measure for a fixed time; with `server_cpu`
    (CPU seconds the server has used so far), also the server's CPU per request."""
    env = {**os.environ, "BENCH_METHOD": request.method, "BENCH_BODY": request.body,
           "BENCH_CONTENT_TYPE": request.content_type,
           "BENCH_AUTHORIZATION": request.authorization}
    if warmup_s > 0:
        _wrk(url, env, warmup_s, connections, threads)
    before = server_cpu() if server_cpu else 0.0
    result = parse_output(_wrk(url, env, duration_s, connections, threads), connections, threads)
    if server_cpu and result.requests:
        used = server_cpu() - before
        result = replace(result, server_cpu_us_per_request=used / result.requests * 1e6)
    return result


def _wrk(url: str, env: dict[str, str], duration_s: int, connections: int, threads: int) -> str:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--timeout", "2s",
           "-s", str(SCRIPT), url]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=duration_s + 30, check=False)
    except FileNotFoundError:
        raise WrkError("wrk is not installed (Debian package wrk; `make bench` installs it)") from None
    except subprocess.TimeoutExpired:
        raise WrkError(f"wrk did not finish a {duration_s}s run against {url}") from None
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}: {done.stderr.strip()[:500]}")
    return done.stdout
