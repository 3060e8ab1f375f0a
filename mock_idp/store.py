"""The domain store on SQLite: clients, users, codes, pending logins, revocations,
the token-signing key and seed application (the Store of store_api.py).

The file handling (connections under gevent, WAL, checkpoints, the generation counter
the client/user caches follow, migrations) is sqlite_engine.py's; the tables are
store_schema.py's.

Access tokens are signed claims (access_tokens.py), so issuing one writes nothing:
a cross-process write per token was most of the token endpoint's cost under several
workers. The store holds no tokens at all, only the signing key (meta row
`token_key`; the file is 0600) and the ids (jti) of revoked tokens until they have expired.
Codes, client secrets and login-form secrets are stored only as SHA-256 hashes;
passwords as salted hashes.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from service import AnyPortRule

from .access_tokens import Claims, TokenSigner, new_claims
from .client_spec import ClientSpec
from .models import CODE_LIFETIME, REFRESH_LIFETIME, AuthCode, Client, RefreshToken, Token, User, digest, rfc3339
from .seed import Seed, SeedClient, SeedUser
from .sqlite_engine import SqliteEngine
from .store_api import MAX_PASSWORD_FAILURES, MAX_PENDING, PENDING_LIFETIME, Pending
from .store_schema import MIGRATIONS

PURGE_AFTER = 3600        # expired codes, and revocations of expired tokens, go this long after
# Salted, so the store never holds a password, but sized for a mock whose passwords are
# demo values: about 1.5 ms per check here, where 20,000 iterations cost 8 ms of every
# login. (Real password storage wants 600,000+, per OWASP.) Stored hashes name their
# own method, so hashes from older stores still verify.
_PASSWORD_METHOD = "pbkdf2:sha256:4000"


def password_hash(password: str) -> str:
    return generate_password_hash(password, method=_PASSWORD_METHOD)


# Hash for unknown usernames, so a wrong username costs what a wrong password does.
_DUMMY_PASSWORD_HASH = generate_password_hash("not-a-user", method=_PASSWORD_METHOD)


class SqliteStore:
    """The Store (store_api.py) on one SQLite file shared by every worker."""

    def __init__(self, path: Path, clock: Callable[[], float], loopback_any_port: AnyPortRule) -> None:
        self.path = path
        self.clock = clock
        self.loopback_any_port = loopback_any_port
        # Clients and users by id, valid for one directory generation (see _cached).
        self._cache: dict[tuple[str, str], Client | User | None] = {}
        self._cache_generation = -1
        self._engine = SqliteEngine(path, MIGRATIONS)
        with self._engine.write() as c:
            # First worker in makes the key; the others, and later runs, read it.
            c.execute("INSERT INTO meta (key, value) VALUES ('token_key', ?)"
                      " ON CONFLICT(key) DO NOTHING", (secrets.token_hex(32),))
            key = c.execute("SELECT value FROM meta WHERE key = 'token_key'").fetchone()["value"]
        self._signer = TokenSigner(bytes.fromhex(key))

    # -- directory cache ----------------------------------------------------------
    # Clients and users are read on every token request but change rarely (seed, admin
    # API). Every such change is a SqliteEngine.shared_write, which moves the shared
    # generation; a lookup serves from this process's cache
    # while the generation is unchanged, so a change by any worker is seen by every
    # worker on its next request.
    def _cached(self, kind: str, key: str, load: Callable[[sqlite3.Connection], Any]) -> Any:
        generation = self._engine.generation()
        if generation & 1:  # a change under way, or one that died midway: read through
            return load(self._engine.conn())
        if generation != self._cache_generation:
            self._cache = {}
            self._cache_generation = generation
        cache = self._cache
        try:
            return cache[(kind, key)]
        except KeyError:
            value = cache[(kind, key)] = load(self._engine.conn())
            return value

    def close(self) -> None:
        self._engine.close()

    def ping(self) -> bool:
        """A file on this host: there while the process is."""
        return True

    # -- seed -------------------------------------------------------------------
    def apply_seed(self, seed: Seed) -> bool:
        """Apply a seed once per store (keyed by its digest); True if it was applied now.

        Several workers may start at once: the directory lock serialises them and the
        later ones see the digest and skip, so admin-API changes survive restarts.
        """
        with self._engine.shared_write() as c:
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
        self._upsert_client(c, cl.id, cl.spec(), digest(cl.secret) if cl.secret else "")

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
        rows = self._engine.conn().execute("SELECT * FROM clients ORDER BY date_created, id").fetchall()
        return [self._client(r) for r in rows]

    def create_client(self, spec: ClientSpec, *, public: bool = False) -> tuple[Client, str | None]:
        """A new client and its secret (the only time it is available); None if public."""
        client_id = str(uuid.uuid4())
        secret = None if public else secrets.token_urlsafe(32)
        with self._engine.shared_write() as c:
            self._upsert_client(c, client_id, spec, digest(secret) if secret else "")
        client = self.get_client(client_id)
        assert client is not None
        return client, secret

    def update_client(self, client_id: str, spec: ClientSpec) -> Client | None:
        with self._engine.shared_write() as c:
            row = c.execute("SELECT secret_hash FROM clients WHERE id = ?", (client_id,)).fetchone()
            if row is None:
                return None
            self._upsert_client(c, client_id, spec, row["secret_hash"])
        return self.get_client(client_id)

    def delete_client(self, client_id: str) -> bool:
        with self._engine.shared_write() as c:  # its tokens die with it: see find_token
            deleted = c.execute("DELETE FROM clients WHERE id = ?", (client_id,)).rowcount
            c.execute("DELETE FROM codes WHERE client_id = ?", (client_id,))
        return deleted == 1

    # -- users ------------------------------------------------------------------
    @staticmethod
    def upsert_user(c: sqlite3.Connection, u: SeedUser, hashed_password: str) -> None:
        """A user in the seed's shape; one username names one user (another id loses it)."""
        c.execute("DELETE FROM users WHERE username = ? AND id != ?", (u.username, u.id))
        c.execute(
            "INSERT INTO users (id, username, name, email, password_hash, extra, roles) VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET username=excluded.username, name=excluded.name,"
            " email=excluded.email, password_hash=excluded.password_hash, extra=excluded.extra,"
            " roles=excluded.roles",
            (u.id, u.username, u.name, u.email, hashed_password, json.dumps(u.extra), json.dumps(list(u.roles))))

    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(row["id"], row["name"], row["email"], row["username"], json.loads(row["extra"]),
                    tuple(json.loads(row["roles"])))

    def get_user(self, user_id: str | None) -> User | None:
        if user_id is None:
            return None

        def load(conn: sqlite3.Connection) -> User | None:
            row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
            return self._user(row) if row else None
        return self._cached("user", user_id, load)

    def authenticate_user(self, username: str, password: str) -> User | None:
        row = self._engine.conn().execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
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
        revoked = self._engine.conn().execute("SELECT 1 FROM revoked WHERE jti = ?",
                                       (claims.jti,)).fetchone() is not None
        return Token(jti=claims.jti, client=client, user=user, grant_type=claims.grant_type,
                     scope=claims.scope, issued_at=claims.issued_at,
                     expires_at=claims.expires_at, revoked=revoked, now=self.clock())

    def revoke_token(self, token: Token) -> None:
        with self._engine.write() as c:
            self._revoke(c, token.jti, token.expires_at)
            c.execute("DELETE FROM refresh_tokens WHERE access_jti = ?", (token.jti,))

    # -- refresh tokens -----------------------------------------------------------
    def save_refresh_token(self, refresh_token: str, *, client_id: str, user_id: str, scope: str,
                           login_id: str, access: Claims) -> None:
        now = self.clock()
        with self._engine.write() as c:
            c.execute("DELETE FROM refresh_tokens WHERE expires_at < ?", (now - PURGE_AFTER,))
            c.execute("INSERT INTO refresh_tokens (token_hash, client_id, user_id, scope, login_id,"
                      " expires_at, access_jti, access_expires_at) VALUES (?,?,?,?,?,?,?,?)",
                      (digest(refresh_token), client_id, user_id, scope or "", login_id,
                       now + REFRESH_LIFETIME, access.jti, access.expires_at))

    def consume_refresh_token(self, refresh_token: str, client_id: str) -> RefreshToken | None:
        """Use a refresh token once (one atomic UPDATE ... RETURNING). A used one presented
        again ends its whole login: every refresh token and access token of it (RFC 9700
        §4.14). None for an unknown, expired or used token, or another client's."""
        token_hash = digest(refresh_token)
        with self._engine.write() as c:
            row = c.execute("UPDATE refresh_tokens SET used = 1 WHERE token_hash = ? AND client_id = ?"
                            " AND used = 0 RETURNING *", (token_hash, client_id)).fetchone()
            if row is None:
                replayed = c.execute("SELECT login_id FROM refresh_tokens WHERE token_hash = ?"
                                     " AND client_id = ? AND used = 1",
                                     (token_hash, client_id)).fetchone()
                if replayed is not None:
                    self._end_login(c, replayed["login_id"])
                return None
        if self.clock() >= row["expires_at"]:
            return None
        return RefreshToken(row["client_id"], row["user_id"], row["scope"], row["login_id"])

    def _end_login(self, c: sqlite3.Connection, login_id: str) -> None:
        family = c.execute("SELECT access_jti, access_expires_at FROM refresh_tokens"
                           " WHERE login_id = ?", (login_id,)).fetchall()
        for member in family:
            self._revoke(c, member["access_jti"], member["access_expires_at"])
        c.execute("UPDATE refresh_tokens SET used = 1 WHERE login_id = ?", (login_id,))

    def _revoke(self, c: sqlite3.Connection, jti: str, expires_at: float) -> None:
        """Record a revocation, and forget those whose tokens have long expired anyway."""
        c.execute("DELETE FROM revoked WHERE expires_at < ?", (self.clock() - PURGE_AFTER,))
        c.execute("INSERT INTO revoked (jti, expires_at) VALUES (?, ?) ON CONFLICT(jti) DO NOTHING",
                  (jti, expires_at))

    def note_code_token(self, code_hash: str, claims: Claims) -> None:
        """Remember which token a code gave, so a replay of the code can revoke it."""
        with self._engine.write() as c:
            c.execute("UPDATE codes SET token_jti = ?, token_expires_at = ? WHERE code_hash = ?",
                      (claims.jti, claims.expires_at, code_hash))

    # -- authorization codes ----------------------------------------------------
    def save_code(self, code: str, *, client_id: str, user_id: str, redirect_uri: str | None,
                  scope: str, code_challenge: str | None,
                  code_challenge_method: str | None) -> None:
        now = self.clock()
        with self._engine.write() as c:
            c.execute("DELETE FROM codes WHERE expires_at < ?", (now - PURGE_AFTER,))
            c.execute("INSERT INTO codes (code_hash, client_id, user_id, redirect_uri, scope,"
                      " code_challenge, code_challenge_method, expires_at) VALUES (?,?,?,?,?,?,?,?)",
                      (digest(code), client_id, user_id, redirect_uri, scope or "",
                       code_challenge, code_challenge_method, now + CODE_LIFETIME))

    def claim_code(self, code: str, client_id: str) -> AuthCode | None:
        """Use a code once. A second use also revokes the tokens it gave (RFC 6749 §4.1.2)."""
        code_hash, now = digest(code), self.clock()
        with self._engine.write() as c:
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
        with self._engine.write() as c:
            c.execute("DELETE FROM pending WHERE expires_at < ?", (now,))
            c.execute("INSERT INTO pending (id_hash, binding_hash, csrf_hash, params, expires_at)"
                      " VALUES (?,?,?,?,?)", (digest(request_id), digest(binding), digest(csrf),
                                              json.dumps(params), now + PENDING_LIFETIME))
            # Anyone may start a login: past MAX_PENDING the oldest go, so the store stays bounded.
            c.execute("DELETE FROM pending WHERE rowid IN (SELECT rowid FROM pending ORDER BY expires_at"
                      " DESC, rowid DESC LIMIT -1 OFFSET ?)", (MAX_PENDING,))
        return request_id, csrf

    def fail_pending(self, request_id: str) -> bool:
        with self._engine.write() as c:
            c.execute("UPDATE pending SET failures = failures + 1 WHERE id_hash = ?", (digest(request_id),))
            ended = c.execute("DELETE FROM pending WHERE id_hash = ? AND failures >= ?",
                              (digest(request_id), MAX_PASSWORD_FAILURES)).rowcount == 1
        return ended

    def get_pending(self, request_id: str) -> Pending | None:
        row = self._engine.conn().execute("SELECT * FROM pending WHERE id_hash = ? AND expires_at > ?",
                                   (digest(request_id), self.clock())).fetchone()
        if row is None:
            return None
        return Pending([tuple(p) for p in json.loads(row["params"])], row["binding_hash"],
                       row["csrf_hash"])

    def take_pending(self, request_id: str) -> bool:
        """Consume a pending login; False if another request already did."""
        with self._engine.write() as c:
            return c.execute("DELETE FROM pending WHERE id_hash = ?",
                             (digest(request_id),)).rowcount == 1
