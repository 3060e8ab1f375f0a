"""SQLite plumbing for a file every worker process shares: connections, WAL, checkpoints,
the cross-process generation counter, transactions and numbered schema migrations.

Knows no table but `meta`: the domain store (store.py) brings its schema as migrations.

One connection per OS thread (reopened after a fork; greenlets of a gevent worker
share their thread's), WAL journal with `synchronous=NORMAL`, short `BEGIN IMMEDIATE`
transactions. WAL checkpoints, whose fsyncs would otherwise stall whichever request
happened to trigger one, run on a background OS thread per process.
"""
from __future__ import annotations

import _thread
import contextlib
import fcntl
import mmap
import os
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service import own_private_file, owned_private_dir

from .errors import StoreError

CHECKPOINT_INTERVAL = 0.5  # seconds between background WAL checkpoints


@dataclass(frozen=True)
class Migration:
    """Schema version `version`: what `apply` does to a store at `version - 1`."""
    version: int
    summary: str
    apply: Callable[[sqlite3.Connection], None]


def enable_wal(conn: sqlite3.Connection, attempts: int = 40) -> None:
    """Switch the file to WAL once. Workers starting together may find it locked, and
    SQLite does not wait on its busy timeout for a journal-mode change: retry, bounded."""
    for attempt in range(1, attempts + 1):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts:
                raise
            time.sleep(0.005 * attempt)  # at most about 4 s in all


def schema_version(conn: sqlite3.Connection) -> int:
    """The store's `schema_version` meta row; 0 for a new file or one from before the row."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return 0 if row is None else int(row[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], path: Path) -> int:
    """Bring the store to the last migration's version, inside the caller's transaction.

    Migrations above the stored version run in order, then the row is set; a failure
    rolls back with the caller's transaction, so a store is never half migrated. A
    store newer than `migrations` knows is refused: this code would misread it.
    """
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(migrations) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, ... in order, got {versions}")
    conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    found, latest = schema_version(conn), len(migrations)
    if found > latest:
        raise StoreError(f"store {path}: schema version {found} is newer than this mock_idp "
                         f"knows (version {latest}); run a newer mock_idp on it, or point "
                         "MOCK_IDP_DB at another file")
    for migration in migrations[found:]:
        migration.apply(conn)
    if found != latest:
        conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key)"
                     " DO UPDATE SET value = excluded.value", (str(latest),))
    return latest


class _Checkpointer:
    """Runs WAL checkpoints on a daemon thread, so no request waits on their fsyncs.

    Request connections have auto-checkpointing off; without this thread the WAL
    would only grow. It holds no reference to the engine: it stops when the engine
    is garbage-collected or closed, or when its database file is gone. Under gevent
    it is still an OS thread (os_threads()): a greenlet would run the fsyncs on the
    loop that serves every connection of the worker.
    """

    def __init__(self, path: Path, interval: float = CHECKPOINT_INTERVAL) -> None:
        start_new_thread, allocate_lock = os_threads()
        self._stop = allocate_lock()  # held until stop(): the thread waits on it
        self._stop.acquire()
        self.pid = os.getpid()
        start_new_thread(self._run, (path, interval, self._stop))

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # stopped already
            self._stop.release()

    @staticmethod
    def _run(path: Path, interval: float, stop: Any) -> None:
        conn = sqlite3.connect(path, timeout=15, isolation_level=None)
        try:
            while not stop.acquire(timeout=interval):
                if not path.exists():
                    return
                with contextlib.suppress(sqlite3.Error):
                    # PASSIVE: never blocks readers or writers; TRUNCATE would.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()


class _Generation:
    """Which version of the shared, rarely changed data every process's cache holds: a
    counter in a file beside the store (`<db>-generation`), memory-mapped, so checking
    it costs a memory read where a SQLite query cost about a tenth of a token request.

    A change makes it odd (under an exclusive flock, so changes take turns), commits,
    then makes it even and higher. Odd means a change is under way, or one died
    midway: lookups then read the store directly, never a cache. So a reader either
    sees the counter move, or reads through: no interleaving serves stale data for
    longer than the change's own request.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            if os.fstat(fd).st_size < 8:
                os.ftruncate(fd, 8)  # zeros: generation 0; two processes doing this agree
            self._map = mmap.mmap(fd, 8, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)

    def read(self) -> int:
        return int.from_bytes(self._map[:8], "little")

    @contextlib.contextmanager
    def changing(self) -> Iterator[None]:
        # A descriptor of this call's own: flock locks belong to the open file, which a
        # forked worker would share with its parent.
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            busy = (self.read() + 1) | 1  # the next odd number
            os.pwrite(fd, busy.to_bytes(8, "little"), 0)
            try:
                yield
            finally:
                os.pwrite(fd, (busy + 1).to_bytes(8, "little"), 0)
        finally:
            os.close(fd)  # releases the flock

    def close(self) -> None:
        self._map.close()


def _gevent_monkey() -> Any:
    """gevent's monkey module if it has patched threading (the shipped gunicorn workers),
    else None. Never imports gevent: only looks whether it is in use."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey if monkey is not None and monkey.is_module_patched("threading") else None


def os_threads() -> tuple[Callable[..., Any], Callable[[], Any]]:
    """The OS's start_new_thread and allocate_lock, even under gevent's patching (which
    makes them a greenlet and a greenlet-aware lock)."""
    monkey = _gevent_monkey()
    if monkey is None:
        return _thread.start_new_thread, _thread.allocate_lock
    return (monkey.get_original("_thread", "start_new_thread"),
            monkey.get_original("_thread", "allocate_lock"))


def os_thread_local() -> Any:
    """A threading.local per OS thread, even where gevent has made it one per greenlet.

    Greenlets take turns on one thread, and nothing in this module switches greenlets
    inside a transaction (SQLite calls, flock and the code between them never yield),
    so they share its connection as a sync worker's requests do. One per greenlet
    would open a connection per client connection, left for the garbage collector to
    close (about 70 open after 200 connections).
    """
    monkey = _gevent_monkey()
    return threading.local() if monkey is None else monkey.get_original("threading", "local")()


class SqliteEngine:
    """One SQLite file (0600, in a 0700 directory) shared by every worker process."""

    def __init__(self, path: Path, migrations: Sequence[Migration]) -> None:
        self.path = path
        self._local = os_thread_local()
        self._checkpointer: _Checkpointer | None = None
        self._checkpointer_lock = threading.Lock()
        # A directory or store someone else made first (0777 in /tmp, a 0644 store with the
        # signing key) is refused or tightened, never used as found.
        owned_private_dir(path.parent)
        os.close(own_private_file(path))
        self._generation = _Generation(path.with_name(path.name + "-generation"))
        enable_wal(self.conn())
        with self.write() as c:  # several workers at once: the first migrates, the rest see it
            migrate(c, migrations, path)

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened once and reused by every request it serves."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 15000")
            # WAL + NORMAL: a commit survives a crash of the process, and the store cannot
            # be corrupted; a power cut may lose the last commits. Enough for a mock.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # _Checkpointer does it
            self._local.conn, self._local.pid = conn, os.getpid()
            self._ensure_checkpointer()
        return conn

    def _ensure_checkpointer(self) -> None:
        """One checkpoint thread per process (started again in a forked worker)."""
        with self._checkpointer_lock:
            if self._checkpointer is None or self._checkpointer.pid != os.getpid():
                self._checkpointer = _Checkpointer(self.path)
                weakref.finalize(self, self._checkpointer.stop)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A `BEGIN IMMEDIATE` transaction: committed on exit, rolled back on any error."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def shared_write(self) -> Iterator[sqlite3.Connection]:
        """A write that every process's cache must see: it moves the generation."""
        with self._generation.changing(), self.write() as c:
            yield c

    def generation(self) -> int:
        """The shared generation: odd while a shared_write is under way (or died midway)."""
        return self._generation.read()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._generation.close()
