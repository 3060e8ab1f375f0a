"""The servers under test, each started on a free 127.0.0.1 port and always stopped."""
from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from devtools.servers import free_port, gunicorn, stop_process, wait_http

from bench.proc_cpu import tree_cpu_seconds
from bench.settings import REPO, GunicornSettings

PEER_DIR = REPO / "bench" / "peer"
PEER_CLI = PEER_DIR / "node_modules" / "oauth2-mock-server" / "dist" / "oauth2-mock-server.js"
NODE = "/usr/bin/node"


class ServerError(RuntimeError):
    """A server under test is missing or did not come up."""


class Server(NamedTuple):
    """A running server: where it answers, and its top process (gunicorn's master)."""

    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU used so far by the server's processes (the master and its workers)."""
        return tree_cpu_seconds(self.pid)


@contextlib.contextmanager
def mock_idp(seed: Path, db: Path, settings: GunicornSettings,
             log: Path, token_fast_path: bool = True, store: str | None = None) -> Iterator[Server]:
    """Our mock IdP exactly as shipped: gunicorn 'mock_idp:create_app()' with compose's
    settings; token_fast_path=False is the same mock with MOCK_IDP_TOKEN_FAST_PATH=0;
    store (a Redis URL) is the same mock on the Redis store (MOCK_IDP_STORE)."""
    env = {"MOCK_IDP_SEED": str(seed), "MOCK_IDP_DB": str(db), "MOCK_IDP_LOOPBACK_ANY_PORT": "1",
           "MOCK_IDP_TOKEN_FAST_PATH": "1" if token_fast_path else "0",
           **({"MOCK_IDP_STORE": store} if store else {})}
    with gunicorn("mock_idp:create_app()", env=env, workers=settings.workers,
                  threads=settings.threads, log_path=log, extra_args=settings.args()) as (base, proc):
        yield Server(base, proc.pid)


@contextlib.contextmanager
def ceiling(settings: GunicornSettings, log: Path) -> Iterator[Server]:
    """The trivial Flask route under the same gunicorn settings, hooks included."""
    with gunicorn("bench.ceiling:create_app()", workers=settings.workers,
                  threads=settings.threads, log_path=log, extra_args=settings.args()) as (base, proc):
        yield Server(base, proc.pid)


@contextlib.contextmanager
def peer(log: Path) -> Iterator[Server]:
    """The npm package oauth2-mock-server, run by its own CLI on loopback."""
    if not PEER_CLI.exists():
        raise ServerError(f"{PEER_CLI} is missing: run `npm ci --prefix bench/peer` "
                          "(`make bench` does)")
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([NODE, str(PEER_CLI), "-a", "127.0.0.1", "-p", str(port)],
                                cwd=PEER_DIR, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/.well-known/openid-configuration", timeout=30, proc=proc)
            yield Server(base, proc.pid)
        finally:
            stop_process(proc)
