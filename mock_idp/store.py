"""SQLite store shared by every gunicorn worker: clients, users, tokens, codes, logins.

One connection per thread (reopened after a fork), WAL journal with
`synchronous=NORMAL`, short transactions (`BEGIN IMMEDIATE` for multi-statement
writes; a token is one autocommit INSERT). WAL checkpoints, whose fsyncs would
otherwise stall whichever request happened to trigger one, run on a background
thread per process. Tokens, codes, client secrets and login-form secrets are
stored only as SHA-256 hashes; passwords as salted hashes.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from .models import CODE_LIFETIME, AuthCode, Client, Token, User, digest
from .seed import Seed

PENDING_LIFETIME = 600
PURGE_INTERVAL = 60       # seconds (app clock) between purges of long-expired tokens and codes
PURGE_AFTER = 3600        # expired tokens and codes are deleted this long after expiry
CHECKPOINT_INTERVAL = 0.5  # seconds between background WAL checkpoints
# Salted, so the store never holds a password, but sized for a mock whose passwords are
# demo values: about 1.5 ms per check here, where 20,000 iterations cost 8 ms of every
# login. (Real password storage wants 600,000+, per OWASP.) Stored hashes name their
# own method, so hashes from older stores still verify.
_PASSWORD_METHOD = "pbkdf2:sha256:4000"
# Hash for unknown usernames, so a wrong username costs what a wrong password does.
_DUMMY_PASSWORD_HASH = generate_password_hash("not-a-user", method=_PASSWORD_METHOD)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    email TEXT NOT NULL, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
    grant_type TEXT NOT NULL, redirect_uris TEXT NOT NULL, scope TEXT NOT NULL,
    validity INTEGER NOT NULL, roles TEXT NOT NULL, secret_hash TEXT NOT NULL,
    date_created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT,
    grant_type TEXT NOT NULL, scope TEXT NOT NULL, issued_at REAL NOT NULL,
    expires_at REAL NOT NULL, revoked_at REAL, code_hash TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tokens_expires_at ON tokens (expires_at);
DROP INDEX IF EXISTS tokens_code_hash;
CREATE INDEX IF NOT EXISTS tokens_code_hash_nn ON tokens (code_hash) WHERE code_hash IS NOT NULL;
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
    redirect_uri TEXT, scope TEXT NOT NULL, code_challenge TEXT,
    code_challenge_method TEXT, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS pending (
    id_hash TEXT PRIMARY KEY, binding_hash TEXT NOT NULL, csrf_hash TEXT NOT NULL,
    params TEXT NOT NULL, expires_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class ClientSpec:
    """The writable fields of a client (admin API and seed)."""
    name: str
    description: str
    grant_type: str
    redirect_uris: tuple[str, ...]
    scope: tuple[str, ...]
    validity: int
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Pending:
    """An authorize request waiting for the login form."""
    params: list[tuple[str, str]]
    binding_hash: str
    csrf_hash: str


def rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def _enable_wal(conn: sqlite3.Connection, attempts: int = 40) -> None:
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


class _Checkpointer:
    """Runs WAL checkpoints on a daemon thread, so no request waits on their fsyncs.

    Request connections have auto-checkpointing off; without this thread the WAL
    would only grow. It holds no reference to the store: it stops when the store
    is garbage-collected or closed, or when its database file is gone.
    """

    def __init__(self, path: Path, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.stop = threading.Event()
        self.pid = os.getpid()
        self._thread = threading.Thread(target=self._run, args=(path, interval, self.stop),
                                        name="mock-idp-checkpoint", daemon=True)
        self._thread.start()

    @staticmethod
    def _run(path: Path, interval: float, stop: threading.Event) -> None:
        conn = sqlite3.connect(path, timeout=15, isolation_level=None)
        try:
            while not stop.wait(interval):
                if not path.exists():
                    return
                with contextlib.suppress(sqlite3.Error):
                    # PASSIVE: never blocks readers or writers; TRUNCATE would.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()


class Store:
    def __init__(self, path: Path, clock: Callable[[], float], loopback_any_port: bool) -> None:
        self.path = path
        self.clock = clock
        self.loopback_any_port = loopback_any_port
        self._local = threading.local()
        self._checkpointer: _Checkpointer | None = None
        self._checkpointer_lock = threading.Lock()
        # Clients and users by id, valid for one directory generation (see _cached).
        self._cache: dict[tuple[str, str], Client | User | None] = {}
        self._cache_generation: str | None = None
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        _enable_wal(self._conn())
        with self._write() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)

    # -- plumbing ---------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
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
            self._local.next_purge = 0.0
            self._ensure_checkpointer()
        return conn

    def _ensure_checkpointer(self) -> None:
        """One checkpoint thread per process (started again in a forked worker)."""
        with self._checkpointer_lock:
            if self._checkpointer is None or self._checkpointer.pid != os.getpid():
                self._checkpointer = _Checkpointer(self.path)
                weakref.finalize(self, self._checkpointer.stop.set)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _purge_due(self, now: float) -> bool:
        """True at most once per PURGE_INTERVAL per connection: purging is housekeeping."""
        if now < self._local.next_purge:
            return False
        self._local.next_purge = now + PURGE_INTERVAL
        return True

    # -- directory cache ----------------------------------------------------------
    # Clients and users are read on every token request but change rarely (seed, admin
    # API). Every such change bumps a generation row in the same transaction; a lookup
    # reads that one row and serves from this process's cache while it is unchanged,
    # so a change by any worker is seen by every worker on its next request.
    @staticmethod
    def _bump_generation(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO meta (key, value) VALUES ('generation', '1') ON CONFLICT(key)"
                  " DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    def _cached(self, kind: str, key: str, load: Callable[[sqlite3.Connection], Any]) -> Any:
        conn = self._conn()
        row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        generation = row[0] if row else ""
        if generation != self._cache_generation:
            self._cache = {}
            self._cache_generation = generation
        cache = self._cache
        try:
            return cache[(kind, key)]
        except KeyError:
            value = cache[(kind, key)] = load(conn)
            return value

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None
        if self._checkpointer is not None:
            self._checkpointer.stop.set()

    # -- seed -------------------------------------------------------------------
    def apply_seed(self, seed: Seed) -> bool:
        """Apply a seed once per store (keyed by its digest); True if it was applied now.

        Several workers may start at once: BEGIN IMMEDIATE serialises them and the
        later ones see the digest and skip, so admin-API changes survive restarts.
        """
        with self._write() as c:
            row = c.execute("SELECT value FROM meta WHERE key = 'seed_digest'").fetchone()
            if row and row["value"] == seed.digest:
                return False
            for u in seed.users:
                c.execute("DELETE FROM users WHERE username = ? AND id != ?", (u.username, u.id))
                c.execute(
                    "INSERT INTO users (id, username, name, email, password_hash) VALUES (?,?,?,?,?)"
                    " ON CONFLICT(id) DO UPDATE SET username=excluded.username, name=excluded.name,"
                    " email=excluded.email, password_hash=excluded.password_hash",
                    (u.id, u.username, u.name, u.email,
                     generate_password_hash(u.password, method=_PASSWORD_METHOD)))
            for cl in seed.clients:
                spec = ClientSpec(cl.name, cl.description, cl.authorized_grant_type,
                                  cl.registered_redirect_uri, cl.scope,
                                  cl.access_token_validity_seconds, cl.roles)
                self._upsert_client(c, cl.id, spec, digest(cl.secret) if cl.secret else "")
            c.execute("INSERT INTO meta (key, value) VALUES ('seed_digest', ?) ON CONFLICT(key)"
                      " DO UPDATE SET value = excluded.value", (seed.digest,))
            self._bump_generation(c)
        return True

    # -- clients ----------------------------------------------------------------
    def _upsert_client(self, c: sqlite3.Connection, client_id: str, spec: ClientSpec,
                       secret_hash: str) -> None:
        c.execute(
            "INSERT INTO clients (id, name, description, grant_type, redirect_uris, scope,"
            " validity, roles, secret_hash, date_created) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET name=excluded.name, description=excluded.description,"
            " grant_type=excluded.grant_type, redirect_uris=excluded.redirect_uris,"
            " scope=excluded.scope, validity=excluded.validity, roles=excluded.roles,"
            " secret_hash=excluded.secret_hash",
            (client_id, spec.name, spec.description, spec.grant_type,
             json.dumps(list(spec.redirect_uris)), json.dumps(list(spec.scope)), spec.validity,
             json.dumps(list(spec.roles)), secret_hash, rfc3339(self.clock())))
        self._bump_generation(c)

    def _client(self, row: sqlite3.Row) -> Client:
        return Client(id=row["id"], name=row["name"], description=row["description"],
                      grant_type=row["grant_type"],
                      redirect_uris=tuple(json.loads(row["redirect_uris"])),
                      scope=tuple(json.loads(row["scope"])), validity=row["validity"],
                      roles=tuple(json.loads(row["roles"])), secret_hash=row["secret_hash"],
                      date_created=row["date_created"], loopback_any_port=self.loopback_any_port)

    def get_client(self, client_id: str) -> Client | None:
        def load(conn: sqlite3.Connection) -> Client | None:
            row = conn.execute("SELECT * FROM clients WHERE id = ?", (client_id,)).fetchone()
            return self._client(row) if row else None
        return self._cached("client", client_id, load)

    def list_clients(self) -> list[Client]:
        rows = self._conn().execute("SELECT * FROM clients ORDER BY date_created, id").fetchall()
        return [self._client(r) for r in rows]

    def create_client(self, spec: ClientSpec) -> tuple[Client, str]:
        """A new client and its secret (the only time the secret is available)."""
        client_id, secret = str(uuid.uuid4()), secrets.token_urlsafe(32)
        with self._write() as c:
            self._upsert_client(c, client_id, spec, digest(secret))
        client = self.get_client(client_id)
        assert client is not None
        return client, secret

    def update_client(self, client_id: str, spec: ClientSpec) -> Client | None:
        with self._write() as c:
            row = c.execute("SELECT secret_hash FROM clients WHERE id = ?", (client_id,)).fetchone()
            if row is None:
                return None
            self._upsert_client(c, client_id, spec, row["secret_hash"])
        return self.get_client(client_id)

    def delete_client(self, client_id: str) -> bool:
        with self._write() as c:
            deleted = c.execute("DELETE FROM clients WHERE id = ?", (client_id,)).rowcount
            self._bump_generation(c)
            c.execute("DELETE FROM tokens WHERE client_id = ?", (client_id,))
            c.execute("DELETE FROM codes WHERE client_id = ?", (client_id,))
        return deleted == 1

    # -- users ------------------------------------------------------------------
    def get_user(self, user_id: str | None) -> User | None:
        if user_id is None:
            return None

        def load(conn: sqlite3.Connection) -> User | None:
            row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
            return User(row["id"], row["name"], row["email"], row["username"]) if row else None
        return self._cached("user", user_id, load)

    def authenticate_user(self, username: str, password: str) -> User | None:
        row = self._conn().execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        stored = row["password_hash"] if row else _DUMMY_PASSWORD_HASH
        if not check_password_hash(stored, password) or row is None:
            return None
        return User(row["id"], row["name"], row["email"], row["username"])

    # -- tokens -----------------------------------------------------------------
    def save_token(self, access_token: str, *, client_id: str, user_id: str | None,
                   grant_type: str, scope: str, expires_in: int,
                   code_hash: str | None = None) -> None:
        now = self.clock()
        conn = self._conn()
        if self._purge_due(now):
            conn.execute("DELETE FROM tokens WHERE expires_at < ?", (now - PURGE_AFTER,))
        # One statement, so its own short transaction: the write lock is held only for it.
        conn.execute("INSERT INTO tokens (token_hash, client_id, user_id, grant_type, scope,"
                     " issued_at, expires_at, code_hash) VALUES (?,?,?,?,?,?,?,?)",
                     (digest(access_token), client_id, user_id, grant_type, scope or "", now,
                      now + expires_in, code_hash))

    def find_token(self, access_token: str) -> Token | None:
        """The token with its client and user, or None if unknown or its client is gone."""
        conn = self._conn()
        row = conn.execute("SELECT * FROM tokens WHERE token_hash = ?",
                           (digest(access_token),)).fetchone()
        if row is None:
            return None
        client = self.get_client(row["client_id"])
        user = self.get_user(row["user_id"])
        if client is None or (row["user_id"] is not None and user is None):
            return None
        return Token(token_hash=row["token_hash"], client=client, user=user,
                     grant_type=row["grant_type"], scope=row["scope"],
                     issued_at=row["issued_at"], expires_at=row["expires_at"],
                     revoked=row["revoked_at"] is not None, now=self.clock())

    def revoke_token(self, token_hash: str) -> None:
        with self._write() as c:
            c.execute("UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                      (self.clock(), token_hash))

    # -- authorization codes ----------------------------------------------------
    def save_code(self, code: str, *, client_id: str, user_id: str, redirect_uri: str | None,
                  scope: str, code_challenge: str | None,
                  code_challenge_method: str | None) -> None:
        now = self.clock()
        with self._write() as c:
            c.execute("DELETE FROM codes WHERE expires_at < ?", (now - PURGE_AFTER,))
            c.execute("INSERT INTO codes (code_hash, client_id, user_id, redirect_uri, scope,"
                      " code_challenge, code_challenge_method, expires_at) VALUES (?,?,?,?,?,?,?,?)",
                      (digest(code), client_id, user_id, redirect_uri, scope or "",
                       code_challenge, code_challenge_method, now + CODE_LIFETIME))

    def claim_code(self, code: str, client_id: str) -> AuthCode | None:
        """Use a code once. A second use also revokes the tokens it gave (RFC 6749 §4.1.2)."""
        code_hash, now = digest(code), self.clock()
        with self._write() as c:
            row = c.execute("SELECT * FROM codes WHERE code_hash = ? AND client_id = ?",
                            (code_hash, client_id)).fetchone()
            if row is None:
                return None
            if row["used"]:
                c.execute("UPDATE tokens SET revoked_at = ? WHERE code_hash = ? AND revoked_at IS NULL",
                          (now, code_hash))
                return None
            c.execute("UPDATE codes SET used = 1 WHERE code_hash = ?", (code_hash,))
            if now >= row["expires_at"]:
                return None
        return AuthCode(code_hash=code_hash, client_id=row["client_id"], user_id=row["user_id"],
                        redirect_uri=row["redirect_uri"], scope=row["scope"],
                        code_challenge=row["code_challenge"],
                        code_challenge_method=row["code_challenge_method"])

    # -- pending logins ---------------------------------------------------------
    def save_pending(self, params: list[tuple[str, str]], binding: str) -> tuple[str, str]:
        """Remember an authorize request; returns (request id, CSRF token) for the form."""
        request_id, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        now = self.clock()
        with self._write() as c:
            c.execute("DELETE FROM pending WHERE expires_at < ?", (now,))
            c.execute("INSERT INTO pending (id_hash, binding_hash, csrf_hash, params, expires_at)"
                      " VALUES (?,?,?,?,?)", (digest(request_id), digest(binding), digest(csrf),
                                              json.dumps(params), now + PENDING_LIFETIME))
        return request_id, csrf

    def get_pending(self, request_id: str) -> Pending | None:
        row = self._conn().execute("SELECT * FROM pending WHERE id_hash = ? AND expires_at > ?",
                                   (digest(request_id), self.clock())).fetchone()
        if row is None:
            return None
        return Pending([tuple(p) for p in json.loads(row["params"])], row["binding_hash"],
                       row["csrf_hash"])

    def take_pending(self, request_id: str) -> bool:
        """Consume a pending login; False if another request already did."""
        with self._write() as c:
            return c.execute("DELETE FROM pending WHERE id_hash = ?",
                             (digest(request_id),)).rowcount == 1
