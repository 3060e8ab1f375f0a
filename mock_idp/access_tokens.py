"""Access tokens as signed claims, so issuing one writes nothing to the shared store.

A token is `<claims>.<signature>`: the claims a compact JSON list, base64url, signed
by itsdangerous with HMAC-SHA256 under a random 32-byte key kept in the store (every
worker, and a restarted server on the same store, signs and verifies with it). The
claims are readable by whoever holds the token, as a JWT's are; they hold no secret.
Whether a token still counts (its client and user exist, it is not revoked) is the
store's business, not the token's.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import NamedTuple

from itsdangerous import BadData, Signer
from itsdangerous.encoding import base64_decode, base64_encode
from itsdangerous.signer import SigningAlgorithm


class Claims(NamedTuple):
    jti: str              # random: what a revocation names
    client_id: str
    incarnation: str      # the client's, at issue: a deleted client id made again gets a new one
    user_id: str | None
    grant_type: str
    scope: str
    issued_at: float      # by the app's clock
    lifetime: int         # seconds

    @property
    def expires_at(self) -> float:
        return self.issued_at + self.lifetime


def new_claims(*, client_id: str, incarnation: str, user_id: str | None, grant_type: str,
               scope: str, issued_at: float, lifetime: int) -> Claims:
    return Claims(secrets.token_urlsafe(16), client_id, incarnation, user_id, grant_type,
                  scope, issued_at, lifetime)


#: Made once: json.dumps with any option builds a new encoder on every call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def to_payload(claims: Claims) -> bytes:
    """A JSON list, not an object, and not compressed: short, and cheap to make."""
    return base64_encode(_COMPACT_JSON.encode(list(claims)))


def from_payload(payload: bytes) -> Claims | None:
    """The claims in a payload; None for anything to_payload never makes."""
    try:
        fields = json.loads(base64_decode(payload))
    except (BadData, ValueError):
        return None
    if not isinstance(fields, list) or len(fields) != len(Claims._fields):
        return None
    jti, client_id, incarnation, user_id, grant_type, scope, issued_at, lifetime = fields
    if not (all(isinstance(v, str) for v in (jti, client_id, incarnation, grant_type, scope))
            and (user_id is None or isinstance(user_id, str))
            and isinstance(issued_at, (int, float)) and type(lifetime) is int):
        return None
    return Claims(jti, client_id, incarnation, user_id, grant_type, scope, float(issued_at),
                  lifetime)


class _KeyedHmacSha256(SigningAlgorithm):
    """HMAC-SHA256 under one fixed key, keyed once: each token copies the keyed state
    instead of setting the key up again."""

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        # `key` is the Signer's, the one this was keyed with (no key derivation).
        mac = self._keyed.copy()
        mac.update(value)
        return mac.digest()


#: An HMAC-SHA256 signature is 43 base64url characters; the last carries 4 bits and 2 zero
#: bits, so it is one of these 16. Any other last character decodes to the same signature,
#: and would give one token several spellings: refused.
_SIGNATURE_LENGTH = 43
_CANONICAL_LAST = frozenset("AEIMQUYcgkosw048")


class TokenSigner:
    """Signs claims into a token and reads them back from one it signed."""

    def __init__(self, key: bytes) -> None:
        # The key is random and signs nothing else: no per-token key derivation.
        self._signer = Signer(key, key_derivation="none", algorithm=_KeyedHmacSha256(key))

    def sign(self, claims: Claims) -> str:
        return self._signer.sign(to_payload(claims)).decode("ascii")

    def read(self, token: str) -> Claims | None:
        """The claims, or None if the token is not one this key signed, spelled as signed."""
        signature = token.rpartition(".")[2]
        if len(signature) != _SIGNATURE_LENGTH or signature[-1:] not in _CANONICAL_LAST:
            return None
        try:
            payload = self._signer.unsign(token)
        except (BadData, ValueError):  # ValueError: a str that is not UTF-8 encodable
            return None
        return from_payload(payload)
