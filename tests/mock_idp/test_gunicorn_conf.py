"""mock_idp/gunicorn_conf.py under a real gunicorn: the worker model the mock ships with."""
from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from mock_idp.config import default_seed_path
from tests.support.servers import MOCK_IDP_ARGS, gunicorn

from .conftest import CC

pytestmark = pytest.mark.slow
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: idp\r\n\r\n"
STATUS_LINE = b"HTTP/1.1 200 OK\r\n"


def read_until(sock: socket.socket, count: int, deadline: float) -> bytes:
    """Bytes from sock until `count` status lines have come, within the deadline."""
    data = b""
    while data.count(STATUS_LINE) < count:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed after {data.count(STATUS_LINE)} answers")
        data += chunk
    return data


def read_ready(sock: socket.socket) -> bytes:
    """Whatever has already arrived on sock, without waiting."""
    sock.setblocking(False)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except BlockingIOError:
        pass
    return data


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    root = tmp_path_factory.mktemp("gunicorn-conf")
    env = {"MOCK_IDP_DB": str(root / "store.sqlite3"), "MOCK_IDP_SEED": str(default_seed_path())}
    # One worker, so both connections below share it.
    with gunicorn("mock_idp:create_app()", env=env, workers=1, extra_args=MOCK_IDP_ARGS) as (base, proc):
        yield base, proc, root / "store.sqlite3"


def connect(base: str) -> socket.socket:
    address = urlsplit(base)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def test_the_shipped_worker_keeps_connections_alive(one_worker):
    """Two requests, one after the other, on one connection (sync workers close it)."""
    base, _proc, _store = one_worker
    deadline = time.monotonic() + 30
    with connect(base) as sock:
        for _ in range(2):
            sock.sendall(HEALTHZ)
            answer = read_until(sock, 1, deadline)
            assert b"connection: close" not in answer.lower()


def test_a_busy_connection_does_not_hold_the_worker(one_worker):
    """Another connection is answered while one connection's pipelined requests are served.

    A gevent greenlet runs until it would block, and a connection whose next request is
    already buffered never blocks; the config's post_request hook makes it yield.
    """
    burst = 200  # answers that fit the socket buffers, so the server's writes never block
    base, _proc, _store = one_worker
    deadline = time.monotonic() + 30
    with connect(base) as busy, connect(base) as other:
        for sock in (busy, other):  # both accepted, each greenlet now waiting for a request
            sock.sendall(HEALTHZ)
            read_until(sock, 1, deadline)
        busy.sendall(HEALTHZ * burst)
        received = read_until(busy, 1, deadline)  # the worker is on the burst now
        other.sendall(HEALTHZ)
        read_until(other, 1, deadline)
        received += read_ready(busy)
        # Without the hook every answer of the burst comes before the other connection's.
        assert received.count(STATUS_LINE) < burst // 2
        busy.setblocking(True)
        read_until(busy, burst - received.count(STATUS_LINE), deadline)  # all answered in the end


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
    base, proc, store = one_worker
    token = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(CC.id, CC.secret), timeout=10).json()["access_token"]
    for _ in range(100):  # a new connection each time, each reading the store
        answer = requests.get(base + "/api/v2/tokens/me", timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
    (worker,) = [int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    # The worker's request connection, and its checkpointer's.
    assert open_files(worker, store.resolve()) <= 2
