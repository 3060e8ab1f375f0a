"""Start real servers on 127.0.0.1 for tests, and always stop them.

Every wait is bounded: a server that does not come up fails the test with its
output instead of hanging the suite.
"""
from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from werkzeug.serving import make_server

from .processes import IDP_CONFIG
from .processes import stop as stop_process

REPO = Path(__file__).resolve().parents[1]

#: gunicorn flags that run the mock IdP as compose.yaml ships it (gevent workers, hooks).
MOCK_IDP_ARGS = ["--config", IDP_CONFIG]


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now on host (the usual small race is accepted in tests)."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports free right now: all bound at once, so none repeats."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(family, socket.SOCK_STREAM)) for _ in range(count)]
        for s in sockets:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    """Poll url until it answers 2xx, the process dies, or timeout passes."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if 200 <= resp.status < 300:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last}")


@contextlib.contextmanager
def wsgi_server(app, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve a WSGI app in a thread; yields its base URL."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bound = server.socket.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    try:
        yield f"http://{shown}:{bound}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@contextlib.contextmanager
def gunicorn(app_spec: str, env: Mapping[str, str] | None = None, workers: int = 2,
             threads: int = 1, health_path: str = "/healthz",
             timeout: float = 30.0, log_path: Path | None = None,
             extra_args: list[str] | None = None,
             python: str = sys.executable) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `gunicorn app_spec` on a loopback port bound here; yields (base URL, process).

    The listening socket is bound before gunicorn starts and handed to it (``fd://N``),
    so no other process can take the port in between and whatever answers is ours.
    extra_args go before the app spec (e.g. ["--access-logfile", "-"]); python is the
    interpreter whose gunicorn runs (`make test-floors`: the venv of the declared floors).
    """
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    port = listener.getsockname()[1]
    cmd = [python, "-m", "gunicorn", "--bind", f"fd://{listener.fileno()}",
           "--workers", str(workers), "--threads", str(threads), "--graceful-timeout", "5", "--no-control-socket",
           *(extra_args or []), app_spec]
    with contextlib.ExitStack() as stack:
        stack.callback(listener.close)
        out = stack.enter_context(open(log_path, "wb")) if log_path else subprocess.DEVNULL
        proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=REPO, pass_fds=(listener.fileno(),),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(stop_process, proc)
        listener.close()  # gunicorn holds its own copy
        base = f"http://127.0.0.1:{port}"
        wait_http(base + health_path, timeout=timeout, proc=proc)
        yield base, proc


def listening_addresses(port: int) -> set[str]:
    """Local addresses in LISTEN state on port, from /proc/net/tcp and tcp6 (Linux)."""
    found = set()
    for name, size in (("tcp", 4), ("tcp6", 16)):
        table = Path(f"/proc/net/{name}")
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            addr, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:
                raw = bytes.fromhex(addr)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))
                found.add(str(ipaddress.ip_address(words)))
    return found
