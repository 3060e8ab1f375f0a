"""mock_idp/gunicorn_conf.py under a real gunicorn: the worker model the mock ships with."""
from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
import requests

from mock_idp.config import default_seed_path
from devtools.servers import MOCK_IDP_ARGS, gunicorn

from .conftest import CC

pytestmark = pytest.mark.slow
STATUS_LINE = b"HTTP/1.1 200 OK\r\n"


def healthz(agent: str) -> bytes:
    """A keep-alive GET /healthz whose User-Agent names it in the access log."""
    return f"GET /healthz HTTP/1.1\r\nHost: idp\r\nUser-Agent: {agent}\r\n\r\n".encode()


class Served(NamedTuple):
    base: str
    log: Path
    store: Path


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    """The shipped config with one worker (so every connection shares it) and an access log."""
    root = tmp_path_factory.mktemp("gunicorn-conf")
    env = {"MOCK_IDP_DB": str(root / "store.sqlite3"), "MOCK_IDP_SEED": str(default_seed_path()),
           "MOCK_IDP_EXPOSE_WORKER_PID": "1"}
    log = root / "gunicorn.log"
    with gunicorn("mock_idp:create_app()", env=env, workers=1, log_path=log,
                  extra_args=[*MOCK_IDP_ARGS, "--access-logfile", "-"]) as (base, _proc):
        yield Served(base, log, (root / "store.sqlite3").resolve())


def read_until(sock: socket.socket, count: int, deadline: float, data: bytes = b"") -> bytes:
    """Bytes from sock, after `data` already read from it, until `count` status lines have
    come in all, within the deadline (one recv may bring several answers)."""
    while data.count(STATUS_LINE) < count:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed after {data.count(STATUS_LINE)} answers")
        data += chunk
    return data


def connect(base: str) -> socket.socket:
    address = urlsplit(base)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def worker_pid(base: str) -> int:
    return requests.get(base + "/healthz", timeout=10).json()["pid"]


def test_the_shipped_worker_keeps_connections_alive(one_worker):
    """Two requests, one after the other, on one connection (sync workers close it)."""
    deadline = time.monotonic() + 30
    with connect(one_worker.base) as sock:
        for _ in range(2):
            sock.sendall(healthz("keep-alive"))
            answer = read_until(sock, 1, deadline)
            assert b"connection: close" not in answer.lower()


def test_a_busy_connection_does_not_hold_the_worker(one_worker):
    """Another connection is answered while one connection's pipelined requests are served.

    A gevent greenlet runs until it would block, and a connection whose next request is
    already buffered never blocks; the config's post_request hook makes it pause. The
    worker's access log gives the order it served them in (one worker: one line at a time).
    """
    burst = 300  # answers that fit the socket buffers, so the server's writes never block
    deadline = time.monotonic() + 30
    with connect(one_worker.base) as busy, connect(one_worker.base) as other:
        for sock in (busy, other):  # both accepted, each greenlet now waiting for a request
            sock.sendall(healthz("warm-up"))
            read_until(sock, 1, deadline)
        busy.sendall(healthz("burst") * burst)
        started = read_until(busy, 1, deadline)  # the worker is on the burst now
        other.sendall(healthz("other"))
        read_until(other, 1, deadline)
        read_until(busy, burst, deadline, started)  # every answer of the burst came
    deadline = time.monotonic() + 10
    while True:  # the log line is written after the answer
        agents = [line.rsplit('"', 2)[-2] for line in one_worker.log.read_text().splitlines()
                  if line.endswith("ms") and ('"burst"' in line or '"other"' in line)]
        if len(agents) == burst + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert agents.count("burst") == burst and agents.count("other") == 1
    # Without the hook the whole burst is served first.
    assert agents.index("other") < burst // 2


def open_files(pid: int, path: Path) -> int:
    """How many of a process's descriptors are open on `path`."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            count += os.readlink(fd) == str(path)
    return count


def test_a_worker_shares_one_sqlite_connection_among_its_clients(one_worker):
    """gevent makes threading.local one per greenlet, so one per client connection; the
    store keeps its connection per OS thread instead, as under sync workers."""
    base = one_worker.base
    token = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(CC.id, CC.secret), timeout=10).json()["access_token"]
    with contextlib.ExitStack() as stack:
        # Twenty client connections, all still open, each having read the store.
        for _ in range(20):
            session = stack.enter_context(requests.Session())
            answer = session.get(base + "/api/v2/tokens/me", timeout=10,
                                 headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
        # The worker's request connection, and its checkpointer's.
        assert 1 <= open_files(worker_pid(base), one_worker.store) <= 2


def test_wal_checkpoints_run_on_an_os_thread(one_worker):
    """Under gevent a threading.Thread is a greenlet, and its fsyncs would run on the loop
    that serves every connection of the worker."""
    tasks = Path(f"/proc/{worker_pid(one_worker.base)}/task")
    threads = [(task / "stat").read_text() for task in tasks.iterdir()]
    assert len(threads) >= 2, threads
