"""The store interface: everything the mock asks of its shared state, whatever holds it.

The app, Authlib's wiring, the endpoints and the test seams type against `Store`; only
the app factory names an engine (store.py's SqliteStore today). A second engine (e.g.
Redis, for several replicas) implements these methods with the contracts below and
passes the store tests. Every engine: codes, client secrets and login-form secrets
are kept only as SHA-256 hashes (models.digest), passwords as salted hashes; single-use
things are consumed atomically across every worker and replica.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .access_tokens import Claims
from .client_spec import ClientSpec
from .models import AuthCode, Client, RefreshToken, Token, User
from .seed import Seed

PENDING_LIFETIME = 600  # seconds a login form may wait for its post
MAX_PENDING = 500       # pending logins kept at once; more evict the oldest (anonymous growth)
MAX_PASSWORD_FAILURES = 5  # wrong passwords that end a pending login (guessing)


@dataclass(frozen=True)
class Pending:
    """An authorize request waiting for the login form."""
    params: list[tuple[str, str]]
    binding_hash: str
    csrf_hash: str


class Store(Protocol):
    """Clients, users, codes, pending logins, revocations and the token-signing key,
    shared by every worker (and, with a networked engine, every replica)."""

    # -- seed and lifetime ----------------------------------------------------------
    def apply_seed(self, seed: Seed) -> bool:
        """Applies a seed once per store (keyed by its digest, safe when workers start
        together); True if applied now. Admin-API changes survive a re-application of
        the same seed."""
        ...

    def close(self) -> None:
        """Releases this process's resources; the shared state stays."""
        ...

    def ping(self) -> bool:
        """True if the store answers now (GET /healthz); a networked engine may be down."""
        ...

    # -- clients (seen by every worker on its next request after a change) ------------
    def get_client(self, client_id: str) -> Client | None:
        """The client, or None if there is none with that id."""
        ...

    def list_clients(self) -> list[Client]:
        """Every client, oldest first (by creation time, then id)."""
        ...

    def create_client(self, spec: ClientSpec, *, public: bool = False) -> tuple[Client, str | None]:
        """A new client with a fresh id and incarnation, and its secret: the only time
        the secret is available (only its hash is kept). A public client (a CODE client
        that logs in with PKCE alone) has none: None."""
        ...

    def update_client(self, client_id: str, spec: ClientSpec) -> Client | None:
        """Replaces the writable fields, keeping id, secret, creation time and
        incarnation; None if there is no such client."""
        ...

    def delete_client(self, client_id: str) -> bool:
        """Deletes the client and its codes (its tokens stop working: find_token);
        False if there was none."""
        ...

    # -- users --------------------------------------------------------------------------
    def get_user(self, user_id: str | None) -> User | None:
        """The user, or None (also for None)."""
        ...

    def authenticate_user(self, username: str, password: str) -> User | None:
        """The user if the password is theirs, else None; an unknown username costs what
        a wrong password does."""
        ...

    # -- access tokens (signed claims: issuing writes nothing) -------------------------
    def issue_token(self, client: Client, *, user_id: str | None, grant_type: str, scope: str,
                    expires_in: int) -> str:
        """A new access token signed with the store's key (shared by every worker and
        kept across restarts); nothing is stored."""
        ...

    def token_claims(self, access_token: str) -> Claims | None:
        """What a token this store signed says, valid or not; None if not signed by it."""
        ...

    def find_token(self, access_token: str) -> Token | None:
        """The token with its client and user now, marked revoked if it was; None if not
        ours, or if its client (this incarnation) or its user is gone."""
        ...

    def revoke_token(self, token: Token) -> None:
        """Records the revocation until the token would have expired; every worker's
        find_token sees it at once, and ends the refresh token issued with it. Revoking
        twice is harmless."""
        ...

    # -- refresh tokens (confidential Code Authorization clients) ----------------------
    def save_refresh_token(self, refresh_token: str, *, client_id: str, user_id: str, scope: str,
                           login_id: str, access: Claims) -> None:
        """Keeps a new refresh token's hash for models.REFRESH_LIFETIME seconds, with the
        login it belongs to and the access token issued with it (revoking that access
        token, revoke_token, also ends this refresh token)."""
        ...

    def consume_refresh_token(self, refresh_token: str, client_id: str) -> RefreshToken | None:
        """Uses the refresh token up atomically (a single read-and-mark, never read then
        write); None if unknown, of another client, expired or used. A used one presented
        again revokes every access and refresh token of its login (RFC 9700 §4.14)."""
        ...

    # -- authorization codes ------------------------------------------------------------
    def save_code(self, code: str, *, client_id: str, user_id: str, redirect_uri: str | None,
                  scope: str, code_challenge: str | None,
                  code_challenge_method: str | None) -> None:
        """Keeps a new code's hash and request for models.CODE_LIFETIME seconds."""
        ...

    def claim_code(self, code: str, client_id: str) -> AuthCode | None:
        """Consumes the code atomically; None if unknown, of another client, expired or
        used. A second claim also revokes the token the first gave (RFC 6749 §4.1.2)."""
        ...

    def note_code_token(self, code_hash: str, claims: Claims) -> None:
        """Remembers which token a claimed code gave, for claim_code's replay revocation."""
        ...

    # -- pending logins -----------------------------------------------------------------
    def save_pending(self, params: list[tuple[str, str]], binding: str) -> tuple[str, str]:
        """Keeps an authorize request for PENDING_LIFETIME seconds; returns a fresh
        (request id, CSRF token), of which only hashes are kept."""
        ...

    def get_pending(self, request_id: str) -> Pending | None:
        """The pending request if it is there and not expired; does not consume it."""
        ...

    def take_pending(self, request_id: str) -> bool:
        """Consumes the pending request atomically; False if it was consumed already (a
        second post of the same form)."""
        ...

    def fail_pending(self, request_id: str) -> bool:
        """Counts a wrong password; True once MAX_PASSWORD_FAILURES ended the pending login."""
        ...
