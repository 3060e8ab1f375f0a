"""The control API's state, shared by every gunicorn worker: in the store's SQLite file.

Faults, scripted sign-ins and received requests are rows beside the store's own tables;
a fault or sign-in is used up by a write transaction, so N of them serve exactly N
requests whichever workers answer. The clock offset is 8 bytes in a memory-mapped
file beside the store (`<db>-clock`): every token and lookup reads the clock, and a
memory read costs nothing where a query per read would.

`ControlState` is what the HTTP layer (control.py) and the pytest fixture use;
`SqliteControlState` keeps it in the SQLite store.
"""
from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .control_rules import Fault, ScriptedLogin, fault_from_json, login_from_json
from .models import User
from .seed import Seed, SeedClient, SeedUser
from .store import Store, password_hash

MAX_RECORDED = 1000  # received requests kept (the oldest go first)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mock_faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, remaining INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS mock_logins (
    id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, client_id TEXT,
    remaining INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS mock_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
"""


class ControlState(Protocol):
    """What tests may do to a running mock, whoever stores it."""

    clock: Callable[[], float]

    def clock_offset(self) -> float: ...
    def set_clock_offset(self, offset: float) -> None: ...
    def add_fault(self, fault: Fault) -> int: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def take_fault(self, method: str, path: str) -> Fault | None: ...
    def clear_faults(self) -> None: ...
    def add_login(self, login: ScriptedLogin) -> int: ...
    def logins(self) -> list[dict[str, Any]]: ...
    def take_login(self, client_id: str) -> ScriptedLogin | None: ...
    def clear_logins(self) -> None: ...
    def record(self, entry: dict[str, Any]) -> None: ...
    def requests(self) -> list[dict[str, Any]]: ...
    def clear_requests(self) -> None: ...
    def find_user(self, ref: str) -> User | None: ...
    def put_user(self, user: SeedUser) -> User: ...
    def put_client(self, client: SeedClient) -> None: ...
    def reset(self) -> None: ...


class ClockOffset:
    """Seconds added to the app's clock, shared by the processes of one store."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            if os.fstat(fd).st_size < 8:
                os.ftruncate(fd, 8)  # zeros: offset 0.0
            self._map = mmap.mmap(fd, 8)
        finally:
            os.close(fd)

    def read(self) -> float:
        return struct.unpack_from("<d", self._map, 0)[0]

    def write(self, offset: float) -> None:
        struct.pack_into("<d", self._map, 0, offset)


class ShiftedClock:
    """The app's clock plus the shared offset: what the store reads when control is on."""

    def __init__(self, base: Callable[[], float], offset: ClockOffset) -> None:
        self.base = base
        self._offset = offset

    def __call__(self) -> float:
        return self.base() + self._offset.read()


class SqliteControlState:
    def __init__(self, store: Store, seed: Seed) -> None:
        self._store = store
        self._seed = seed
        self._offset = ClockOffset(store.path.with_name(store.path.name + "-clock"))
        self.clock: Callable[[], float] = ShiftedClock(store.clock, self._offset)
        store.clock = self.clock  # every token, code and lookup now runs on the movable clock
        self._hashes: dict[tuple[str, str], str] = {}  # seed passwords, hashed once per process
        with store._write() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)

    # -- clock ------------------------------------------------------------------
    def clock_offset(self) -> float:
        return self._offset.read()

    def set_clock_offset(self, offset: float) -> None:
        self._offset.write(offset)

    # -- faults -----------------------------------------------------------------
    def add_fault(self, fault: Fault) -> int:
        with self._store._write() as c:
            return int(c.execute("INSERT INTO mock_faults (spec, remaining) VALUES (?, ?)",
                                 (json.dumps(fault.to_json()), fault.count)).lastrowid or 0)

    def faults(self) -> list[dict[str, Any]]:
        rows = self._store._conn().execute("SELECT * FROM mock_faults ORDER BY id").fetchall()
        return [{"id": r["id"], **json.loads(r["spec"]), "remaining": r["remaining"]} for r in rows]

    def take_fault(self, method: str, path: str) -> Fault | None:
        """Use up one count of the oldest fault matching the request, if any."""
        conn = self._store._conn()
        # A read first: most requests meet no fault and need no write lock.
        if conn.execute("SELECT 1 FROM mock_faults LIMIT 1").fetchone() is None:
            return None
        with self._store._write() as c:
            for row in c.execute("SELECT * FROM mock_faults ORDER BY id").fetchall():
                fault = fault_from_json(json.loads(row["spec"]))
                if fault.matches(method, path):
                    if row["remaining"] <= 1:
                        c.execute("DELETE FROM mock_faults WHERE id = ?", (row["id"],))
                    else:
                        c.execute("UPDATE mock_faults SET remaining = remaining - 1 WHERE id = ?",
                                  (row["id"],))
                    return fault
        return None

    def clear_faults(self) -> None:
        with self._store._write() as c:
            c.execute("DELETE FROM mock_faults")

    # -- scripted sign-ins ------------------------------------------------------
    def add_login(self, login: ScriptedLogin) -> int:
        with self._store._write() as c:
            return int(c.execute("INSERT INTO mock_logins (spec, client_id, remaining) VALUES (?, ?, ?)",
                                 (json.dumps(login.to_json()), login.client_id, login.count)).lastrowid or 0)

    def logins(self) -> list[dict[str, Any]]:
        rows = self._store._conn().execute("SELECT * FROM mock_logins ORDER BY id").fetchall()
        return [{"id": r["id"], **json.loads(r["spec"]), "remaining": r["remaining"]} for r in rows]

    def take_login(self, client_id: str) -> ScriptedLogin | None:
        conn = self._store._conn()
        if conn.execute("SELECT 1 FROM mock_logins LIMIT 1").fetchone() is None:
            return None
        with self._store._write() as c:
            row = c.execute("SELECT * FROM mock_logins WHERE client_id IS NULL OR client_id = ?"
                            " ORDER BY id LIMIT 1", (client_id,)).fetchone()
            if row is None:
                return None
            if row["remaining"] <= 1:
                c.execute("DELETE FROM mock_logins WHERE id = ?", (row["id"],))
            else:
                c.execute("UPDATE mock_logins SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
        return login_from_json(json.loads(row["spec"]))

    def clear_logins(self) -> None:
        with self._store._write() as c:
            c.execute("DELETE FROM mock_logins")

    # -- received requests ------------------------------------------------------
    def record(self, entry: dict[str, Any]) -> None:
        with self._store._write() as c:
            row_id = c.execute("INSERT INTO mock_requests (entry) VALUES (?)", (json.dumps(entry),)).lastrowid
            if row_id and row_id % 100 == 0:  # trimmed now and then, not on every request
                c.execute("DELETE FROM mock_requests WHERE id <= ?", (row_id - MAX_RECORDED,))

    def requests(self) -> list[dict[str, Any]]:
        rows = self._store._conn().execute(
            "SELECT * FROM mock_requests ORDER BY id DESC LIMIT ?", (MAX_RECORDED,)).fetchall()
        return [{"id": r["id"], **json.loads(r["entry"])} for r in reversed(rows)]

    def clear_requests(self) -> None:
        with self._store._write() as c:
            c.execute("DELETE FROM mock_requests")

    # -- users and clients ------------------------------------------------------
    def find_user(self, ref: str) -> User | None:
        """A user by id, else by username."""
        user = self._store.get_user(ref)
        if user is not None:
            return user
        row = self._store._conn().execute("SELECT id FROM users WHERE username = ?", (ref,)).fetchone()
        return self._store.get_user(row["id"]) if row else None

    def put_user(self, user: SeedUser) -> User:
        with self._store._directory_write() as c:
            self._store.upsert_user(c, user, password_hash(user.password))
        found = self._store.get_user(user.id)
        assert found is not None
        return found

    def put_client(self, client: SeedClient) -> None:
        with self._store._directory_write() as c:
            self._store.upsert_client(c, client)

    # -- reset ------------------------------------------------------------------
    def _hash(self, user: SeedUser) -> str:
        key = (user.id, user.password)
        if key not in self._hashes:
            self._hashes[key] = password_hash(user.password)
        return self._hashes[key]

    def reset(self) -> None:
        """Back to the seed: its users and clients only (new incarnations: older tokens stop
        working), no codes or pending sign-ins, no faults, scripts or requests, clock unmoved."""
        hashes = [self._hash(u) for u in self._seed.users]  # before the lock: hashing is slow
        with self._store._directory_write() as c:
            for table in ("users", "clients", "codes", "pending", "mock_faults", "mock_logins",
                          "mock_requests"):
                c.execute(f"DELETE FROM {table}")  # noqa: S608  fixed names
            for user, hashed in zip(self._seed.users, hashes, strict=True):
                self._store.upsert_user(c, user, hashed)
            for client in self._seed.clients:
                self._store.upsert_client(c, client)
        self._offset.write(0.0)
