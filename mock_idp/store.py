"""SQLite store shared by every gunicorn worker: clients, users, codes, logins, revocations.

One connection per OS thread (reopened after a fork; greenlets of a gevent worker
share their thread's), WAL journal with `synchronous=NORMAL`, short `BEGIN IMMEDIATE`
transactions. WAL checkpoints, whose fsyncs would otherwise stall whichever request
happened to trigger one, run on a background OS thread per process.

Access tokens are signed claims (access_tokens.py), so issuing one writes nothing:
a cross-process write per token was most of the token endpoint's cost under several
workers. The store holds no tokens at all, only the signing key (meta row
`token_key`; the file is 0600) and the ids (jti) of revoked tokens until they have expired.
Codes, client secrets and login-form secrets are stored only as SHA-256 hashes;
passwords as salted hashes.
"""
from __future__ import annotations

import _thread
import contextlib
import fcntl
import json
import mmap
import os
import secrets
import sqlite3
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from .access_tokens import Claims, TokenSigner, new_claims
from .models import CODE_LIFETIME, AuthCode, Client, Token, User, digest
from .seed import Seed, SeedClient, SeedUser

PENDING_LIFETIME = 600
PURGE_AFTER = 3600        # expired codes, and revocations of expired tokens, go this long after
CHECKPOINT_INTERVAL = 0.5  # seconds between background WAL checkpoints
# Salted, so the store never holds a password, but sized for a mock whose passwords are
# demo values: about 1.5 ms per check here, where 20,000 iterations cost 8 ms of every
# login. (Real password storage wants 600,000+, per OWASP.) Stored hashes name their
# own method, so hashes from older stores still verify.
_PASSWORD_METHOD = "pbkdf2:sha256:4000"


def password_hash(password: str) -> str:
    return generate_password_hash(password, method=_PASSWORD_METHOD)


# Hash for unknown usernames, so a wrong username costs what a wrong password does.
_DUMMY_PASSWORD_HASH = generate_password_hash("not-a-user", method=_PASSWORD_METHOD)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    email TEXT NOT NULL, password_hash TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS clients (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
    grant_type TEXT NOT NULL, redirect_uris TEXT NOT NULL, scope TEXT NOT NULL,
    validity INTEGER NOT NULL, roles TEXT NOT NULL, secret_hash TEXT NOT NULL,
    date_created TEXT NOT NULL, incarnation TEXT NOT NULL DEFAULT '');
DROP TABLE IF EXISTS tokens;
CREATE TABLE IF NOT EXISTS revoked (jti TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
    redirect_uri TEXT, scope TEXT NOT NULL, code_challenge TEXT,
    code_challenge_method TEXT, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0,
    token_jti TEXT, token_expires_at REAL);
CREATE TABLE IF NOT EXISTS pending (
    id_hash TEXT PRIMARY KEY, binding_hash TEXT NOT NULL, csrf_hash TEXT NOT NULL,
    params TEXT NOT NULL, expires_at REAL NOT NULL);
"""
# Columns newer than some stores on disk: added where missing (CREATE IF NOT EXISTS won't).
_ADDED_COLUMNS = {
    "users": (("extra", "TEXT NOT NULL DEFAULT '{}'"),),
    "clients": (("incarnation", "TEXT NOT NULL DEFAULT ''"),),
    "codes": (("token_jti", "TEXT"), ("token_expires_at", "REAL")),
}


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
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace(
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
    """Which version of the clients and users every process's cache holds: a counter in
    a file beside the store (`<db>-generation`), memory-mapped, so checking it costs a
    memory read where a SQLite query cost about a tenth of a token request.

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


class Store:
    def __init__(self, path: Path, clock: Callable[[], float], loopback_any_port: bool) -> None:
        self.path = path
        self.clock = clock
        self.loopback_any_port = loopback_any_port
        self._local = os_thread_local()
        self._checkpointer: _Checkpointer | None = None
        self._checkpointer_lock = threading.Lock()
        # Clients and users by id, valid for one directory generation (see _cached).
        self._cache: dict[tuple[str, str], Client | User | None] = {}
        self._cache_generation = -1
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        self._generation = _Generation(path.with_name(path.name + "-generation"))
        _enable_wal(self._conn())
        with self._write() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)
            for table, columns in _ADDED_COLUMNS.items():
                have = {row["name"] for row in c.execute(f"PRAGMA table_info({table})")}
                for name, declaration in columns:
                    if name not in have:
                        c.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
            # First worker in makes the key; the others, and later runs, read it.
            c.execute("INSERT INTO meta (key, value) VALUES ('token_key', ?)"
                      " ON CONFLICT(key) DO NOTHING", (secrets.token_hex(32),))
            key = c.execute("SELECT value FROM meta WHERE key = 'token_key'").fetchone()["value"]
        self._signer = TokenSigner(bytes.fromhex(key))

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
            self._ensure_checkpointer()
        return conn

    def _ensure_checkpointer(self) -> None:
        """One checkpoint thread per process (started again in a forked worker)."""
        with self._checkpointer_lock:
            if self._checkpointer is None or self._checkpointer.pid != os.getpid():
                self._checkpointer = _Checkpointer(self.path)
                weakref.finalize(self, self._checkpointer.stop)

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

    # -- directory cache ----------------------------------------------------------
    # Clients and users are read on every token request but change rarely (seed, admin
    # API). Every such change goes through _directory_write, which moves the shared
    # generation (_Generation); a lookup serves from this process's cache while the
    # generation is unchanged, so a change by any worker is seen by every worker on
    # its next request.
    @contextlib.contextmanager
    def _directory_write(self) -> Iterator[sqlite3.Connection]:
        with self._generation.changing(), self._write() as c:
            yield c

    def _cached(self, kind: str, key: str, load: Callable[[sqlite3.Connection], Any]) -> Any:
        generation = self._generation.read()
        if generation & 1:  # a change under way, or one that died midway: read through
            return load(self._conn())
        if generation != self._cache_generation:
            self._cache = {}
            self._cache_generation = generation
        cache = self._cache
        try:
            return cache[(kind, key)]
        except KeyError:
            value = cache[(kind, key)] = load(self._conn())
            return value

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._generation.close()

    # -- seed -------------------------------------------------------------------
    def apply_seed(self, seed: Seed) -> bool:
        """Apply a seed once per store (keyed by its digest); True if it was applied now.

        Several workers may start at once: the directory lock serialises them and the
        later ones see the digest and skip, so admin-API changes survive restarts.
        """
        with self._directory_write() as c:
            row = c.execute("SELECT value FROM meta WHERE key = 'seed_digest'").fetchone()
            if row and row["value"] == seed.digest:
                return False
            for u in seed.users:
                self.upsert_user(c, u, password_hash(u.password))
            for cl in seed.clients:
                self.upsert_client(c, cl)
            c.execute("INSERT INTO meta (key, value) VALUES ('seed_digest', ?) ON CONFLICT(key)"
                      " DO UPDATE SET value = excluded.value", (seed.digest,))
        return True

    # -- clients ----------------------------------------------------------------
    def upsert_client(self, c: sqlite3.Connection, cl: SeedClient) -> None:
        """A client in the seed's shape (the seed, and the control API's POST /mock/clients)."""
        spec = ClientSpec(cl.name, cl.description, cl.authorized_grant_type,
                          cl.registered_redirect_uri, cl.scope,
                          cl.access_token_validity_seconds, cl.roles)
        self._upsert_client(c, cl.id, spec, digest(cl.secret) if cl.secret else "")

    def _upsert_client(self, c: sqlite3.Connection, client_id: str, spec: ClientSpec,
                       secret_hash: str) -> None:
        c.execute(
            "INSERT INTO clients (id, name, description, grant_type, redirect_uris, scope,"
            " validity, roles, secret_hash, date_created, incarnation)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET name=excluded.name, description=excluded.description,"
            " grant_type=excluded.grant_type, redirect_uris=excluded.redirect_uris,"
            " scope=excluded.scope, validity=excluded.validity, roles=excluded.roles,"
            " secret_hash=excluded.secret_hash",
            (client_id, spec.name, spec.description, spec.grant_type,
             json.dumps(list(spec.redirect_uris)), json.dumps(list(spec.scope)), spec.validity,
             json.dumps(list(spec.roles)), secret_hash, rfc3339(self.clock()),
             secrets.token_urlsafe(6)))  # kept by updates: see Client.incarnation

    def _client(self, row: sqlite3.Row) -> Client:
        return Client(id=row["id"], name=row["name"], description=row["description"],
                      grant_type=row["grant_type"],
                      redirect_uris=tuple(json.loads(row["redirect_uris"])),
                      scope=tuple(json.loads(row["scope"])), validity=row["validity"],
                      roles=tuple(json.loads(row["roles"])), secret_hash=row["secret_hash"],
                      date_created=row["date_created"], incarnation=row["incarnation"],
                      loopback_any_port=self.loopback_any_port)

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
        with self._directory_write() as c:
            self._upsert_client(c, client_id, spec, digest(secret))
        client = self.get_client(client_id)
        assert client is not None
        return client, secret

    def update_client(self, client_id: str, spec: ClientSpec) -> Client | None:
        with self._directory_write() as c:
            row = c.execute("SELECT secret_hash FROM clients WHERE id = ?", (client_id,)).fetchone()
            if row is None:
                return None
            self._upsert_client(c, client_id, spec, row["secret_hash"])
        return self.get_client(client_id)

    def delete_client(self, client_id: str) -> bool:
        with self._directory_write() as c:  # its tokens die with it: see find_token
            deleted = c.execute("DELETE FROM clients WHERE id = ?", (client_id,)).rowcount
            c.execute("DELETE FROM codes WHERE client_id = ?", (client_id,))
        return deleted == 1

    # -- users ------------------------------------------------------------------
    @staticmethod
    def upsert_user(c: sqlite3.Connection, u: SeedUser, password_hash: str) -> None:
        """A user in the seed's shape; one username names one user (another id loses it)."""
        c.execute("DELETE FROM users WHERE username = ? AND id != ?", (u.username, u.id))
        c.execute(
            "INSERT INTO users (id, username, name, email, password_hash, extra) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET username=excluded.username, name=excluded.name,"
            " email=excluded.email, password_hash=excluded.password_hash, extra=excluded.extra",
            (u.id, u.username, u.name, u.email, password_hash, json.dumps(u.extra)))

    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(row["id"], row["name"], row["email"], row["username"], json.loads(row["extra"]))

    def get_user(self, user_id: str | None) -> User | None:
        if user_id is None:
            return None

        def load(conn: sqlite3.Connection) -> User | None:
            row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
            return self._user(row) if row else None
        return self._cached("user", user_id, load)

    def authenticate_user(self, username: str, password: str) -> User | None:
        row = self._conn().execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        stored = row["password_hash"] if row else _DUMMY_PASSWORD_HASH
        if not check_password_hash(stored, password) or row is None:
            return None
        return self._user(row)

    # -- tokens -----------------------------------------------------------------
    # Issuing writes nothing. Checking a token reads its client and user (cached) and
    # looks its jti up among the revocations, so a revocation, or a deleted client
    # or user, counts on every worker at once. Only revoking writes.
    def issue_token(self, client: Client, *, user_id: str | None, grant_type: str, scope: str,
                    expires_in: int) -> str:
        """A new access token of `client` (for `user_id`): signed claims, nothing stored."""
        return self._signer.sign(new_claims(
            client_id=client.id, incarnation=client.incarnation, user_id=user_id,
            grant_type=grant_type, scope=scope or "", issued_at=self.clock(),
            lifetime=int(expires_in)))

    def token_claims(self, access_token: str) -> Claims | None:
        """What a token this store signed says (valid or not); None if it did not sign it."""
        return self._signer.read(access_token)

    def find_token(self, access_token: str) -> Token | None:
        """The token with its client and user; None if not ours or its client or user is gone.

        A client deleted and later made again with the same id (a seed) has a new
        incarnation, so the old client's tokens stay dead.
        """
        claims = self._signer.read(access_token)
        if claims is None:
            return None
        client = self.get_client(claims.client_id)
        if client is None or client.incarnation != claims.incarnation:
            return None
        user = self.get_user(claims.user_id)
        if claims.user_id is not None and user is None:
            return None
        revoked = self._conn().execute("SELECT 1 FROM revoked WHERE jti = ?",
                                       (claims.jti,)).fetchone() is not None
        return Token(jti=claims.jti, client=client, user=user, grant_type=claims.grant_type,
                     scope=claims.scope, issued_at=claims.issued_at,
                     expires_at=claims.expires_at, revoked=revoked, now=self.clock())

    def revoke_token(self, token: Token) -> None:
        with self._write() as c:
            self._revoke(c, token.jti, token.expires_at)

    def _revoke(self, c: sqlite3.Connection, jti: str, expires_at: float) -> None:
        """Record a revocation, and forget those whose tokens have long expired anyway."""
        c.execute("DELETE FROM revoked WHERE expires_at < ?", (self.clock() - PURGE_AFTER,))
        c.execute("INSERT INTO revoked (jti, expires_at) VALUES (?, ?) ON CONFLICT(jti) DO NOTHING",
                  (jti, expires_at))

    def note_code_token(self, code_hash: str, claims: Claims) -> None:
        """Remember which token a code gave, so a replay of the code can revoke it."""
        with self._write() as c:
            c.execute("UPDATE codes SET token_jti = ?, token_expires_at = ? WHERE code_hash = ?",
                      (claims.jti, claims.expires_at, code_hash))

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
                if row["token_jti"] is not None:
                    self._revoke(c, row["token_jti"], row["token_expires_at"])
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
