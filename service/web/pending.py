"""Started browser logins, kept server-side until their callback arrives.

The session cookie holds only an opaque random id; the record (state, PKCE verifier,
profile, issuer) lives in a small SQLite file shared by all gunicorn workers, 0600 in
a 0700 directory (R28). A record is taken with DELETE ... RETURNING, so a state is
used at most once even across workers (R21), and expires after a TTL.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

from service.private_files import own_private_file, owned_private_dir

_SCHEMA = ("CREATE TABLE IF NOT EXISTS pending (key TEXT PRIMARY KEY, created REAL NOT NULL, data TEXT NOT NULL);"
           "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, created REAL NOT NULL, data TEXT NOT NULL)")
#: session tokens (profiles made of GENESYSCLOUD_* variables, never cached in the file)
TOKEN_TTL = 2 * 86400


class PendingLogins:
    """put() a record, get back an opaque id for the session; take() it once."""

    def __init__(self, path: Path, ttl: float) -> None:
        self.path = Path(path)
        self.ttl = ttl
        owned_private_dir(self.path.parent)
        os.close(own_private_file(self.path))  # ours, 0600, not a planted link
        db = self._connect()
        try:
            db.executescript(_SCHEMA)
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    @staticmethod
    def _key(opaque_id: str) -> str:
        # Store a hash: reading the file does not yield a usable session value.
        return hashlib.sha256(opaque_id.encode()).hexdigest()

    def put(self, record: dict[str, Any]) -> str:
        opaque_id = secrets.token_urlsafe(32)
        now = time.time()
        db = self._connect()
        try:
            db.execute("DELETE FROM pending WHERE created < ?", (now - self.ttl,))
            db.execute("INSERT INTO pending (key, created, data) VALUES (?, ?, ?)",
                       (self._key(opaque_id), now, json.dumps(record)))
        finally:
            db.close()
        return opaque_id

    def put_named(self, name: str, record: dict[str, Any]) -> None:
        """Keep record under a name the caller already holds (a login's state), until the TTL."""
        now = time.time()
        db = self._connect()
        try:
            db.execute("INSERT OR REPLACE INTO pending (key, created, data) VALUES (?, ?, ?)",
                       (self._key(name), now, json.dumps(record)))
        finally:
            db.close()

    def take(self, opaque_id: str | None) -> dict[str, Any] | None:
        """The record for opaque_id, removed; None if unknown, used or expired."""
        return self._record("DELETE FROM pending WHERE key = ? RETURNING created, data", opaque_id)

    def peek(self, opaque_id: str | None) -> dict[str, Any] | None:
        """The record without consuming it (to render the relay page)."""
        return self._record("SELECT created, data FROM pending WHERE key = ?", opaque_id)

    def _record(self, query: str, opaque_id: str | None) -> dict[str, Any] | None:
        """The one (created, data) row query yields for opaque_id, unless it has expired."""
        if not opaque_id or not isinstance(opaque_id, str):
            return None
        db = self._connect()
        try:
            row = db.execute(query, (self._key(opaque_id),)).fetchone()
        finally:
            db.close()
        if row is None or row[0] < time.time() - self.ttl:
            return None
        return json.loads(row[1])

    # -- tokens of one browser session for profiles whose token may not go in the file --
    def put_token(self, session_id: str, profile: str, token_json: str | None) -> None:
        key = self._key(f"{session_id}\0{profile}")
        db = self._connect()
        try:
            db.execute("DELETE FROM tokens WHERE created < ? OR key = ?", (time.time() - TOKEN_TTL, key))
            if token_json is not None:
                db.execute("INSERT INTO tokens (key, created, data) VALUES (?, ?, ?)",
                           (key, time.time(), token_json))
        finally:
            db.close()

    def get_token(self, session_id: str | None, profile: str) -> str | None:
        if not session_id:
            return None
        db = self._connect()
        try:
            row = db.execute("SELECT data FROM tokens WHERE key = ?",
                             (self._key(f"{session_id}\0{profile}"),)).fetchone()
        finally:
            db.close()
        return row[0] if row else None
