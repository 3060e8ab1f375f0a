"""The domain store on Redis (the Store of store_api.py), for several replicas of the mock.

Selected by MOCK_IDP_STORE=redis://host:port/db (rediss://, unix://). What SQLite keeps
in tables is kept under keys starting `mock_idp:`; hashing is store.py's (codes, client
and login-form secrets as SHA-256, passwords salted), so a Redis dump holds no secret.

- Lifetimes are Redis expiry (codes, pending logins, revocations); the app's clock still
  decides validity, so a test clock works as it does on SQLite.
- Single-use things are consumed in one round trip: a pending login by DEL, a code by a
  Lua script that checks and marks it.
- The signing key is made once (SET NX) and shared; a seed is applied in one
  WATCH/MULTI transaction, so replicas starting together apply it once.
- Clients and users are cached per process for one value of the `generation` key, which
  every directory change increments inside its transaction.

Redis unreachable: every call raises StoreUnavailable (503 to the client, see errors.py).
A Redis without persistence that restarts has forgotten everything, revocations too;
the signing key goes with it, so tokens signed before stop validating (nothing revoked
comes back). Run Redis with persistence (appendonly) to keep state across its restarts.
"""
from __future__ import annotations

import json
import math
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from werkzeug.security import check_password_hash

from service import AnyPortRule

from .access_tokens import Claims, TokenSigner, new_claims
from .client_spec import ClientSpec
from .errors import StoreError, StoreUnavailable
from .models import CODE_LIFETIME, REFRESH_LIFETIME, AuthCode, Client, RefreshToken, Token, User, digest, rfc3339
from .seed import Seed
from .store import _DUMMY_PASSWORD_HASH, PURGE_AFTER, password_hash
from .store_api import MAX_PASSWORD_FAILURES, MAX_PENDING, PENDING_LIFETIME, Pending

PREFIX = "mock_idp:"
TIMEOUT = 2.0  # seconds: a Redis that does not answer is down for this request

# KEYS[1] a code or refresh token (a hash); ARGV[1] the client id, ARGV[2..] the fields a
# replay needs. Marks it used and returns its fields; one used already returns {"used",
# those fields} ('' for a missing one); another client's or none: false.
_CONSUME = """
local client = redis.call('HGET', KEYS[1], 'client_id')
if not client or client ~= ARGV[1] then return false end
if redis.call('HSETNX', KEYS[1], 'used', '1') == 1 then
  return redis.call('HGETALL', KEYS[1])
end
local used = {'used'}
for i = 2, #ARGV do used[i] = redis.call('HGET', KEYS[1], ARGV[i]) or '' end
return used
"""
# KEYS[1] the pending record, KEYS[2] its failure count; ARGV[1] the limit, ARGV[2] the
# count's lifetime. One more wrong password; 1 when that ended the pending login.
_FAIL_PENDING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local failures = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
if failures >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""
# KEYS[1] the pending index (a sorted set in arrival order), KEYS[2] its sequence; ARGV[1]
# the new pending login's id hash, ARGV[2] the cap, ARGV[3] the key prefix, ARGV[4] the
# index's lifetime. Indexes it, then evicts the oldest past the cap, keys included (an
# entry whose key has expired goes the same way).
_CAP_PENDING = """
redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if extra > 0 then
  for _, id_hash in ipairs(redis.call('ZRANGE', KEYS[1], 0, extra - 1)) do
    redis.call('DEL', ARGV[3] .. 'pending:' .. id_hash, ARGV[3] .. 'pending_failures:' .. id_hash)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
end
return extra
"""
# KEYS[1] the code; ARGV token_jti, token_expires_at: only onto a code still there.
_NOTE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'token_jti', ARGV[1], 'token_expires_at', ARGV[2])
return 1
"""


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


class RedisStore:
    """The Store (store_api.py) on one Redis database shared by every replica."""

    def __init__(self, url: str, clock: Callable[[], float], loopback_any_port: AnyPortRule) -> None:
        self.url = url
        self.clock = clock
        self.loopback_any_port = loopback_any_port
        self._cache: dict[tuple[str, str], Client | User | None] = {}
        self._cache_generation: str | None = None
        try:
            # Replies as str. Typed Any: redis-py annotates every reply `bytes | str` (and
            # pipelines' as the pipeline), whichever decode_responses says.
            self._redis: Any = redis.Redis.from_url(url, socket_timeout=TIMEOUT,
                                                    socket_connect_timeout=TIMEOUT,
                                                    health_check_interval=30,
                                                    decode_responses=True)
        except ValueError as error:
            raise StoreError(f"MOCK_IDP_STORE: {redacted(url)} is not a Redis URL: {error}") from None
        self._consume = self._redis.register_script(_CONSUME)
        self._note = self._redis.register_script(_NOTE)
        self._fail_pending = self._redis.register_script(_FAIL_PENDING)
        self._cap_pending = self._redis.register_script(_CAP_PENDING)
        try:
            key = self._token_key()
        except StoreUnavailable as error:
            raise StoreError(f"MOCK_IDP_STORE: cannot reach Redis at {redacted(url)}: "
                             f"{error.__cause__ or error}") from None
        self._signer = TokenSigner(bytes.fromhex(key))

    @contextmanager
    def _up(self) -> Iterator[None]:
        """Redis lost or slow: StoreUnavailable, which the app answers with a 503."""
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise StoreUnavailable("the store (Redis) is not reachable") from error
        except redis.ResponseError as error:  # e.g. LOADING while a restarted Redis reads its file
            if "LOADING" in str(error) or "MISCONF" in str(error):
                raise StoreUnavailable("the store (Redis) is not ready") from error
            raise

    def _token_key(self) -> str:
        with self._up():
            # First replica in makes the key; the others, and later runs, read it.
            self._redis.set(PREFIX + "token_key", secrets.token_hex(32), nx=True)
            value = self._redis.get(PREFIX + "token_key")
        assert value is not None
        return str(value)

    def ping(self) -> bool:
        """True if Redis answers (GET /healthz)."""
        try:
            with self._up():
                return bool(self._redis.ping())
        except StoreUnavailable:
            return False

    def close(self) -> None:
        self._redis.close()

    # -- directory cache (see store.py: same idea, the generation is a Redis key) ----
    def _directory(self, generation: str | None) -> dict[tuple[str, str], Client | User | None]:
        """This process's cache of clients and users for `generation` (read just now)."""
        generation = generation or "0"
        if generation != self._cache_generation:
            self._cache = {}
            self._cache_generation = generation
        return self._cache

    def _generation(self) -> str | None:
        with self._up():
            return self._redis.get(PREFIX + "generation")

    @staticmethod
    def _cached(cache: dict[tuple[str, str], Any], kind: str, key: str,
                load: Callable[[], Any]) -> Any:
        try:
            return cache[(kind, key)]
        except KeyError:
            value = cache[(kind, key)] = load()
            return value

    # -- seed -------------------------------------------------------------------
    def apply_seed(self, seed: Seed) -> bool:
        """Apply a seed once per store (keyed by its digest); True if it was applied now.

        One WATCH/MULTI transaction: of replicas starting together one applies it, the
        others see the digest (their transaction fails, they look again) and skip.
        """
        hashes = {u.id: password_hash(u.password) for u in seed.users}  # slow: before the transaction
        digest_key = PREFIX + "seed_digest"
        with self._up(), self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(digest_key, *(self._client_key(c.id) for c in seed.clients),
                               *(PREFIX + "username:" + u.username for u in seed.users))
                    stored = pipe.get(digest_key)
                    if stored is not None and stored == seed.digest:
                        pipe.reset()
                        return False
                    existing = {c.id: pipe.get(self._client_key(c.id)) for c in seed.clients}
                    owners = {u.username: pipe.get(PREFIX + "username:" + u.username)
                              for u in seed.users}
                    pipe.multi()
                    for u in seed.users:
                        owner = owners[u.username]
                        if owner is not None and owner != u.id:
                            pipe.delete(PREFIX + "user:" + owner)  # one username, one user
                        pipe.set(PREFIX + "user:" + u.id, json.dumps(
                            {"id": u.id, "username": u.username, "name": u.name, "email": u.email,
                             "password_hash": hashes[u.id], "extra": u.extra, "roles": list(u.roles)}))
                        pipe.set(PREFIX + "username:" + u.username, u.id)
                    for cl in seed.clients:
                        self._put_client(pipe, cl.id, cl.spec(), digest(cl.secret) if cl.secret else "",
                                         existing[cl.id])
                    pipe.set(digest_key, seed.digest)
                    pipe.incr(PREFIX + "generation")
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue

    # -- clients ----------------------------------------------------------------
    @staticmethod
    def _client_key(client_id: str) -> str:
        return PREFIX + "client:" + client_id

    def _put_client(self, pipe: Any, client_id: str, spec: ClientSpec, secret_hash: str,
                    existing: str | None) -> None:
        """Queue a client's write; an update keeps creation time and incarnation."""
        old = json.loads(existing) if existing else {}
        pipe.set(self._client_key(client_id), json.dumps({
            "id": client_id, "name": spec.name, "description": spec.description,
            "grant_type": spec.grant_type, "redirect_uris": list(spec.redirect_uris),
            "scope": list(spec.scope), "validity": spec.validity, "roles": list(spec.roles),
            "secret_hash": secret_hash,
            "date_created": old.get("date_created") or rfc3339(self.clock()),
            "incarnation": old.get("incarnation") or secrets.token_urlsafe(6)}))
        pipe.sadd(PREFIX + "clients", client_id)

    def _client(self, raw: str) -> Client:
        d = json.loads(raw)
        return Client(id=d["id"], name=d["name"], description=d["description"],
                      grant_type=d["grant_type"], redirect_uris=tuple(d["redirect_uris"]),
                      scope=tuple(d["scope"]), validity=d["validity"], roles=tuple(d["roles"]),
                      secret_hash=d["secret_hash"], date_created=d["date_created"],
                      incarnation=d["incarnation"], loopback_any_port=self.loopback_any_port)

    def get_client(self, client_id: str) -> Client | None:
        return self._get_client(self._directory(self._generation()), client_id)

    def _get_client(self, cache: dict[tuple[str, str], Any], client_id: str) -> Client | None:
        def load() -> Client | None:
            with self._up():
                raw = self._redis.get(self._client_key(client_id))
            return self._client(raw) if raw else None
        return self._cached(cache, "client", client_id, load)

    def list_clients(self) -> list[Client]:
        with self._up():
            ids = sorted(self._redis.smembers(PREFIX + "clients"))
            raws = self._redis.mget([self._client_key(i) for i in ids]) if ids else []
        clients = [self._client(r) for r in raws if r]
        return sorted(clients, key=lambda c: (c.date_created, c.id))

    def _change_client(self, client_id: str, change: Callable[[Any, str | None], bool]) -> bool:
        """Run `change(pipe, current)` in a transaction on the client's key; its result."""
        key = self._client_key(client_id)
        with self._up(), self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    current = pipe.get(key)
                    pipe.multi()
                    done = change(pipe, current)
                    if not done:
                        pipe.reset()
                        return False
                    pipe.incr(PREFIX + "generation")
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue

    def create_client(self, spec: ClientSpec, *, public: bool = False) -> tuple[Client, str | None]:
        """A new client and its secret (the only time it is available); None if public."""
        client_id = str(uuid.uuid4())
        secret = None if public else secrets.token_urlsafe(32)

        def create(pipe: Any, current: str | None) -> bool:
            self._put_client(pipe, client_id, spec, digest(secret) if secret else "", None)
            return True
        self._change_client(client_id, create)
        client = self.get_client(client_id)
        assert client is not None
        return client, secret

    def update_client(self, client_id: str, spec: ClientSpec) -> Client | None:
        def update(pipe: Any, current: str | None) -> bool:
            if current is None:
                return False
            self._put_client(pipe, client_id, spec, json.loads(current)["secret_hash"], current)
            return True
        if not self._change_client(client_id, update):
            return None
        return self.get_client(client_id)

    def delete_client(self, client_id: str) -> bool:
        # Its codes die with it: a code names the incarnation it was made for (claim_code).
        def delete(pipe: Any, current: str | None) -> bool:
            if current is None:
                return False
            pipe.delete(self._client_key(client_id))
            pipe.srem(PREFIX + "clients", client_id)
            return True
        return self._change_client(client_id, delete)

    # -- users ------------------------------------------------------------------
    @staticmethod
    def _user(d: dict[str, Any]) -> User:
        return User(d["id"], d["name"], d["email"], d["username"], d.get("extra") or {}, tuple(d.get("roles") or ()))

    def get_user(self, user_id: str | None) -> User | None:
        return self._get_user(self._directory(self._generation()), user_id)

    def _get_user(self, cache: dict[tuple[str, str], Any], user_id: str | None) -> User | None:
        if user_id is None:
            return None

        def load() -> User | None:
            with self._up():
                raw = self._redis.get(PREFIX + "user:" + user_id)
            return self._user(json.loads(raw)) if raw else None
        return self._cached(cache, "user", user_id, load)

    def _user_record(self, username: str) -> dict[str, Any] | None:
        with self._up():
            user_id = self._redis.get(PREFIX + "username:" + username)
            raw = self._redis.get(PREFIX + "user:" + user_id) if user_id else None
        record = json.loads(raw) if raw else None
        return record if record and record["username"] == username else None

    def authenticate_user(self, username: str, password: str) -> User | None:
        record = self._user_record(username)
        stored = record["password_hash"] if record else _DUMMY_PASSWORD_HASH
        if not check_password_hash(stored, password) or record is None:
            return None
        return self._user(record)

    # -- tokens -----------------------------------------------------------------
    def issue_token(self, client: Client, *, user_id: str | None, grant_type: str, scope: str,
                    expires_in: int) -> str:
        """A new access token of `client` (for `user_id`): signed claims, nothing stored."""
        return self._signer.sign(new_claims(
            client_id=client.id, incarnation=client.incarnation, user_id=user_id,
            grant_type=grant_type, scope=scope or "", issued_at=self.clock(),
            lifetime=int(expires_in)))

    def token_claims(self, access_token: str) -> Claims | None:
        return self._signer.read(access_token)

    def find_token(self, access_token: str) -> Token | None:
        claims = self._signer.read(access_token)
        if claims is None:
            return None
        # One round trip for the directory's generation and the revocation together:
        # a bearer request costs one Redis command while its client and user are cached.
        with self._up():
            generation, revoked = self._redis.mget(PREFIX + "generation", PREFIX + "revoked:" + claims.jti)
        cache = self._directory(generation)
        client = self._get_client(cache, claims.client_id)
        if client is None or client.incarnation != claims.incarnation:
            return None
        user = self._get_user(cache, claims.user_id)
        if claims.user_id is not None and user is None:
            return None
        return Token(jti=claims.jti, client=client, user=user, grant_type=claims.grant_type,
                     scope=claims.scope, issued_at=claims.issued_at,
                     expires_at=claims.expires_at, revoked=revoked is not None, now=self.clock())

    def _expiry(self, expires_at: float) -> int:
        """Seconds a record must live for something valid until `expires_at` (at least 1)."""
        return max(1, math.ceil(expires_at - self.clock()) + 1)

    def revoke_token(self, token: Token) -> None:
        # One round trip (MULTI); revoking the access token ends the refresh token issued with it.
        with self._up(), self._redis.pipeline() as pipe:
            pipe.set(PREFIX + "revoked:" + token.jti, "1", ex=self._expiry(token.expires_at))
            pipe.getdel(PREFIX + "access_refresh:" + token.jti)
            refresh_hash = pipe.execute()[1]
            if refresh_hash:
                self._redis.delete(PREFIX + "refresh:" + refresh_hash)

    # -- refresh tokens -----------------------------------------------------------
    def save_refresh_token(self, refresh_token: str, *, client_id: str, user_id: str, scope: str,
                           login_id: str, access: Claims) -> None:
        token_hash = digest(refresh_token)
        key, family = PREFIX + "refresh:" + token_hash, PREFIX + "login:" + login_id
        lifetime = REFRESH_LIFETIME + PURGE_AFTER  # kept past its use, so a late replay still ends the login
        with self._up(), self._redis.pipeline() as pipe:  # MULTI: never a record without expiry
            pipe.hset(key, mapping={"client_id": client_id, "user_id": user_id, "scope": scope or "",
                                    "login_id": login_id, "expires_at": repr(self.clock() + REFRESH_LIFETIME),
                                    "access_jti": access.jti, "access_expires_at": repr(access.expires_at)})
            pipe.expire(key, lifetime)
            pipe.sadd(family, token_hash)
            pipe.expire(family, lifetime)
            pipe.set(PREFIX + "access_refresh:" + access.jti, token_hash, ex=self._expiry(access.expires_at))
            pipe.execute()

    def consume_refresh_token(self, refresh_token: str, client_id: str) -> RefreshToken | None:
        """Use a refresh token once (one script: check and mark). A used one presented again
        ends its whole login: every refresh and access token of it (RFC 9700 §4.14)."""
        with self._up():
            result = self._consume(keys=[PREFIX + "refresh:" + digest(refresh_token)],
                                   args=[client_id, "login_id"])
        if not result:
            return None
        if result[0] == "used":
            self._end_login(result[1])
            return None
        row = {result[i]: result[i + 1] for i in range(0, len(result), 2)}
        if self.clock() >= float(row["expires_at"]):
            return None
        return RefreshToken(row["client_id"], row["user_id"], row["scope"], row["login_id"])

    def _end_login(self, login_id: str) -> None:
        with self._up():
            members = self._redis.smembers(PREFIX + "login:" + login_id)
            for token_hash in members:
                key = PREFIX + "refresh:" + token_hash
                jti, expires_at = self._redis.hmget(key, "access_jti", "access_expires_at")
                if jti:
                    self._revoke(jti, float(expires_at))
                self._redis.hset(key, "used", "1")

    def _revoke(self, jti: str, expires_at: float) -> None:
        with self._up():
            self._redis.set(PREFIX + "revoked:" + jti, "1", ex=self._expiry(expires_at))

    def note_code_token(self, code_hash: str, claims: Claims) -> None:
        with self._up():
            self._note(keys=[PREFIX + "code:" + code_hash], args=[claims.jti, repr(claims.expires_at)])

    # -- authorization codes ----------------------------------------------------
    def save_code(self, code: str, *, client_id: str, user_id: str, redirect_uri: str | None,
                  scope: str, code_challenge: str | None,
                  code_challenge_method: str | None) -> None:
        client = self.get_client(client_id)
        fields = {"client_id": client_id, "incarnation": client.incarnation if client else "",
                  "user_id": user_id, "scope": scope or "",
                  "expires_at": repr(self.clock() + CODE_LIFETIME)}
        optional = {"redirect_uri": redirect_uri, "code_challenge": code_challenge,
                    "code_challenge_method": code_challenge_method}
        fields.update({k: v for k, v in optional.items() if v is not None})
        key = PREFIX + "code:" + digest(code)
        with self._up(), self._redis.pipeline() as pipe:  # MULTI: never a code without expiry
            pipe.hset(key, mapping=fields)
            # Kept past its lifetime, as SQLite keeps it, so a late replay still revokes.
            pipe.expire(key, CODE_LIFETIME + PURGE_AFTER)
            pipe.execute()

    def claim_code(self, code: str, client_id: str) -> AuthCode | None:
        """Use a code once (one script: check and mark). A second use also revokes the
        token it gave (RFC 6749 §4.1.2)."""
        code_hash = digest(code)
        with self._up():
            result = self._consume(keys=[PREFIX + "code:" + code_hash],
                                   args=[client_id, "token_jti", "token_expires_at"])
        if not result:
            return None
        if result[0] == "used":
            jti, expires_at = result[1], result[2]
            if jti:
                self._revoke(jti, float(expires_at))
            return None
        row = {result[i]: result[i + 1] for i in range(0, len(result), 2)}
        if self.clock() >= float(row["expires_at"]):
            return None
        client = self.get_client(client_id)
        if client is None or client.incarnation != row["incarnation"]:
            return None  # made for a client since deleted (and perhaps made again)
        return AuthCode(code_hash=code_hash, client_id=row["client_id"], user_id=row["user_id"],
                        redirect_uri=row.get("redirect_uri"), scope=row["scope"],
                        code_challenge=row.get("code_challenge"),
                        code_challenge_method=row.get("code_challenge_method"))

    # -- pending logins ---------------------------------------------------------
    def save_pending(self, params: list[tuple[str, str]], binding: str) -> tuple[str, str]:
        request_id, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        record = {"binding_hash": digest(binding), "csrf_hash": digest(csrf), "params": params,
                  "expires_at": self.clock() + PENDING_LIFETIME}
        id_hash = digest(request_id)
        with self._up():
            self._redis.set(PREFIX + "pending:" + id_hash, json.dumps(record), ex=PENDING_LIFETIME)
            # Anyone may start a login: past MAX_PENDING the oldest go, so the store stays bounded.
            self._cap_pending(keys=[PREFIX + "pending_index", PREFIX + "pending_seq"],
                              args=[id_hash, MAX_PENDING, PREFIX, PENDING_LIFETIME])
        return request_id, csrf

    def fail_pending(self, request_id: str) -> bool:
        id_hash = digest(request_id)
        with self._up():
            return bool(self._fail_pending(keys=[PREFIX + "pending:" + id_hash, PREFIX + "pending_failures:" + id_hash],
                                           args=[MAX_PASSWORD_FAILURES, PENDING_LIFETIME]))

    def get_pending(self, request_id: str) -> Pending | None:
        with self._up():
            raw = self._redis.get(PREFIX + "pending:" + digest(request_id))
        if raw is None:
            return None
        record = json.loads(raw)
        if record["expires_at"] <= self.clock():
            return None
        return Pending([tuple(p) for p in record["params"]], record["binding_hash"],
                       record["csrf_hash"])

    def take_pending(self, request_id: str) -> bool:
        """Consume a pending login in one DEL; False if another request already did.
        Its failure count and index entry go in the same MULTI (one round trip)."""
        id_hash = digest(request_id)
        with self._up(), self._redis.pipeline() as pipe:
            pipe.delete(PREFIX + "pending:" + id_hash)
            pipe.delete(PREFIX + "pending_failures:" + id_hash)
            pipe.zrem(PREFIX + "pending_index", id_hash)
            return bool(pipe.execute()[0] == 1)
