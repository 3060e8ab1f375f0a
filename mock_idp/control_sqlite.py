"""The control API's state (control_state.ControlState) in the SQLite store's file.

Its tables are store_schema.py's (migration 2); a fault or scripted sign-in is used up
in a write transaction, so N of them serve exactly N requests whichever worker answers.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .control_rules import Fault, ScriptedLogin, fault_from_json, login_from_json
from .control_state import ClockOffset, ShiftedClock
from .models import User
from .seed import Seed, SeedClient, SeedUser
from .store import SqliteStore, password_hash

MAX_RECORDED = 1000  # received requests kept (the oldest go first)


class SqliteControlState:
    def __init__(self, store: SqliteStore, seed: Seed) -> None:
        self._store = store
        self._engine = store._engine  # the tables are store_schema.py's (migration 2)
        self._seed = seed
        self._offset = ClockOffset(store.path.with_name(store.path.name + "-clock"))
        self.clock: Callable[[], float] = ShiftedClock(store.clock, self._offset)
        store.clock = self.clock  # every token, code and lookup now runs on the movable clock
        self._hashes: dict[tuple[str, str], str] = {}  # seed passwords, hashed once per process

    # -- clock ------------------------------------------------------------------
    def clock_offset(self) -> float:
        return self._offset.read()

    def set_clock_offset(self, offset: float) -> None:
        self._offset.write(offset)

    # -- faults -----------------------------------------------------------------
    def add_fault(self, fault: Fault) -> int:
        with self._engine.write() as c:
            return int(c.execute("INSERT INTO mock_faults (spec, remaining) VALUES (?, ?)",
                                 (json.dumps(fault.to_json()), fault.count)).lastrowid or 0)

    def faults(self) -> list[dict[str, Any]]:
        rows = self._engine.conn().execute("SELECT * FROM mock_faults ORDER BY id").fetchall()
        return [{"id": r["id"], **json.loads(r["spec"]), "remaining": r["remaining"]} for r in rows]

    def take_fault(self, method: str, path: str) -> Fault | None:
        """Use up one count of the oldest fault matching the request, if any."""
        conn = self._engine.conn()
        # A read first: most requests meet no fault and need no write lock.
        if conn.execute("SELECT 1 FROM mock_faults LIMIT 1").fetchone() is None:
            return None
        with self._engine.write() as c:
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
        with self._engine.write() as c:
            c.execute("DELETE FROM mock_faults")

    # -- scripted sign-ins ------------------------------------------------------
    def add_login(self, login: ScriptedLogin) -> int:
        with self._engine.write() as c:
            return int(c.execute("INSERT INTO mock_logins (spec, client_id, remaining) VALUES (?, ?, ?)",
                                 (json.dumps(login.to_json()), login.client_id, login.count)).lastrowid or 0)

    def logins(self) -> list[dict[str, Any]]:
        rows = self._engine.conn().execute("SELECT * FROM mock_logins ORDER BY id").fetchall()
        return [{"id": r["id"], **json.loads(r["spec"]), "remaining": r["remaining"]} for r in rows]

    def take_login(self, client_id: str) -> ScriptedLogin | None:
        conn = self._engine.conn()
        if conn.execute("SELECT 1 FROM mock_logins LIMIT 1").fetchone() is None:
            return None
        with self._engine.write() as c:
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
        with self._engine.write() as c:
            c.execute("DELETE FROM mock_logins")

    # -- received requests ------------------------------------------------------
    def record(self, entry: dict[str, Any]) -> None:
        with self._engine.write() as c:
            row_id = c.execute("INSERT INTO mock_requests (entry) VALUES (?)", (json.dumps(entry),)).lastrowid
            if row_id and row_id % 100 == 0:  # trimmed now and then, not on every request
                c.execute("DELETE FROM mock_requests WHERE id <= ?", (row_id - MAX_RECORDED,))

    def requests(self) -> list[dict[str, Any]]:
        rows = self._engine.conn().execute(
            "SELECT * FROM mock_requests ORDER BY id DESC LIMIT ?", (MAX_RECORDED,)).fetchall()
        return [{"id": r["id"], **json.loads(r["entry"])} for r in reversed(rows)]

    def clear_requests(self) -> None:
        with self._engine.write() as c:
            c.execute("DELETE FROM mock_requests")

    # -- users and clients ------------------------------------------------------
    def find_user(self, ref: str) -> User | None:
        """A user by id, else by username."""
        user = self._store.get_user(ref)
        if user is not None:
            return user
        row = self._engine.conn().execute("SELECT id FROM users WHERE username = ?", (ref,)).fetchone()
        return self._store.get_user(row["id"]) if row else None

    def put_user(self, user: SeedUser) -> User:
        with self._engine.shared_write() as c:
            self._store.upsert_user(c, user, password_hash(user.password))
        found = self._store.get_user(user.id)
        assert found is not None
        return found

    def put_client(self, client: SeedClient) -> None:
        with self._engine.shared_write() as c:
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
        with self._engine.shared_write() as c:
            for table in ("users", "clients", "codes", "pending", "mock_faults", "mock_logins",
                          "mock_requests"):
                c.execute(f"DELETE FROM {table}")  # noqa: S608  fixed names
            for user, hashed in zip(self._seed.users, hashes, strict=True):
                self._store.upsert_user(c, user, hashed)
            for client in self._seed.clients:
                self._store.upsert_client(c, client)
        self._offset.write(0.0)
