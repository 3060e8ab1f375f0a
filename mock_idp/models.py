"""Clients, users, tokens and codes as Authlib sees them (its model mixins)."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list

from service import AnyPortRule, redirect_uri_allowed

GRANT_TYPES = ("CLIENT-CREDENTIALS", "TOKEN", "CODE")
VALIDITY_MIN, VALIDITY_MAX, VALIDITY_DEFAULT = 300, 172800, 86400
CODE_LIFETIME = 60
REFRESH_LIFETIME = 7 * 86400  # seconds a refresh token may wait for its one use
ADMIN_ROLE = "admin"

# Genesys grant type -> (OAuth grant_type, response_type, token-endpoint auth methods).
# TOKEN (implicit) never authenticates; CODE has public PKCE clients ("none") and
# confidential ones (a secret), which must send it (Client.check_endpoint_auth_method).
_GRANTS = {
    "CLIENT-CREDENTIALS": ("client_credentials", None, {"client_secret_basic", "client_secret_post"}),
    "TOKEN": ("implicit", "token", {"none"}),
    "CODE": ("authorization_code", "code", {"client_secret_basic", "client_secret_post", "none"}),
}


def digest(value: str) -> str:
    """SHA-256 hex of a secret: codes and client secrets are stored only this way."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def rfc3339(timestamp: float) -> str:
    """A timestamp as Genesys writes them: `2024-01-01T00:00:00Z`."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    username: str
    # The seed's extra fields (title, department, ...): users/me returns them.
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    roles: tuple[str, ...] = ()  # the seed's: what this user's logins may do

    def get_user_id(self) -> str:
        return self.id


@dataclass(frozen=True)
class Client(ClientMixin):
    id: str
    name: str
    description: str
    grant_type: str
    redirect_uris: tuple[str, ...]
    scope: tuple[str, ...]
    validity: int
    roles: tuple[str, ...]
    secret_hash: str
    date_created: str
    # Random per creation of this id, kept by updates; tokens carry it, so a client
    # deleted and made again (same id, from a seed) does not revive the old tokens.
    incarnation: str = ""
    loopback_any_port: AnyPortRule = field(default=False, compare=False)

    @property
    def is_confidential(self) -> bool:
        """A CODE client with a secret (Genesys's Code Authorization grant): it may
        authenticate at the token endpoint, and gets refresh tokens when it does."""
        return self.grant_type == "CODE" and bool(self.secret_hash)

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def get_client_id(self) -> str:
        return self.id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        if not scope:
            return list_to_scope(list(self.scope))
        requested = scope_to_list(scope)
        if not set(requested) <= set(self.scope):
            return None
        return list_to_scope(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri_allowed(redirect_uri, self.redirect_uris,
                                    loopback_any_port=self.loopback_any_port)

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.secret_hash) and hmac.compare_digest(digest(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # RFC 6749 §3.2.1: a confidential client must authenticate; PKCE alone is a
        # public client's proof, so a CODE client with a secret may not use "none".
        if method == "none" and self.is_confidential:
            return False
        return method in _GRANTS[self.grant_type][2]

    def check_response_type(self, response_type: str) -> bool:
        return response_type == _GRANTS[self.grant_type][1]

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "refresh_token":
            return self.is_confidential
        return grant_type == _GRANTS[self.grant_type][0]


@dataclass(frozen=True)
class AuthCode(AuthorizationCodeMixin):
    code_hash: str
    client_id: str
    user_id: str
    redirect_uri: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class RefreshToken:
    """A refresh token just used up: what it may renew. `login_id` names the sign-in
    it descends from, whose every token a replay revokes (RFC 9700 §4.14)."""
    client_id: str
    user_id: str
    scope: str
    login_id: str

    def check_client(self, client: ClientMixin) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class Token(TokenMixin):
    """A checked access token: its verified claims with its client and user now."""
    jti: str
    client: Client
    user: User | None
    grant_type: str
    scope: str
    issued_at: float
    expires_at: float
    revoked: bool
    now: float  # when it was looked up, by the app's clock

    @property
    def roles(self) -> tuple[str, ...]:
        """A user's token has the user's rights; only client credentials have the client's."""
        return self.user.roles if self.user is not None else self.client.roles

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def check_client(self, client: ClientMixin) -> bool:
        return self.client.id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.expires_at - self.issued_at)

    def is_expired(self) -> bool:
        return self.now >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> User | None:
        return self.user

    def get_client(self) -> Client:
        return self.client
