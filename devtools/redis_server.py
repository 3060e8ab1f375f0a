"""A private redis-server (Debian's) for tests and bench: a unix socket in a temp dir.

Persistence is on (appendonly, in the same dir), so stopping and starting it again keeps
its state, as a production Redis with persistence would: the failure tests restart it
and check that nothing revoked comes back.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .processes import stop

START_TIMEOUT = 10.0


class RedisUnavailable(RuntimeError):
    """redis-server is not installed, or did not start."""


@dataclass
class RedisServer:
    """One redis-server on a unix socket in `directory`; start() and stop() repeatable."""
    directory: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable("redis-server is not installed (Debian: apt-get install redis-server)")
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--dir", str(self.directory), "--save", "", "--appendonly", "yes",
             "--appendfsync", "no", "--daemonize", "no", "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self._wait()

    def _wait(self) -> None:
        import redis  # the test dependency is the runtime one: imported where used

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RedisUnavailable(f"redis-server exited ({self.proc.returncode}); see "
                                       f"{self.directory / 'redis.log'}")
            with contextlib.suppress(redis.RedisError, OSError):
                client = redis.Redis(unix_socket_path=str(self.socket))
                try:
                    if client.ping():
                        return
                finally:
                    client.close()
            time.sleep(0.05)
        raise RedisUnavailable(f"redis-server did not answer on {self.socket} in {START_TIMEOUT} s")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, grace=5.0)
            self.proc = None

    def flush(self) -> None:
        import redis

        client = redis.Redis(unix_socket_path=str(self.socket))
        try:
            client.flushdb()
        finally:
            client.close()


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
