"""HTTP Basic client credentials as RFC 6749 §2.3.1 defines them, for Authlib's server.

Each of client_id and client_secret is `application/x-www-form-urlencoded` before the
two are joined with ':' (Appendix B: a space becomes '+'). Authlib only percent-decodes
them, so a secret with a space sent strictly fails there. Here they are split at the
first ':' and form-decoded; clients that percent-encode a space as %20 decode the same.
Clients that send the secret unencoded (Genesys's own SDKs do) are tried as sent, second.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from authlib.oauth2.rfc6749.authenticate_client import authenticate_none as _authlib_none

from .models import Client

Credentials = tuple[str, str]


def basic_credentials(header: str) -> tuple[Credentials, ...]:
    """The (client_id, client_secret) readings of a Basic header: decoded, then as sent.

    ValueError says what is wrong with a header that is not Basic credentials at all.
    """
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise ValueError("The Authorization header must use the Basic scheme.")
    if not value.strip():
        raise ValueError("The Basic credentials are missing.")
    try:
        text = base64.b64decode(value.strip().encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        raise ValueError("The Basic credentials are not valid base64 of UTF-8 text.") from None
    raw_id, sep, raw_secret = text.partition(":")
    decoded = (unquote_plus(raw_id), unquote_plus(raw_secret))
    if not sep or not decoded[0]:
        raise ValueError("The Basic credentials must be 'client_id:client_secret', "
                         "each form-urlencoded.")
    raw = (raw_id, raw_secret)
    return (decoded,) if raw == decoded else (decoded, raw)


def authenticate_basic(query_client: Any, request: Any) -> Client | None:
    """Authlib's `client_secret_basic` method, with §2.3.1's decoding (module docstring).

    A malformed header, an empty secret (a public client's `client_id:`) or a wrong one
    authenticates nobody: Authlib then tries the grant's other methods, or says
    invalid_client.
    """
    header = request.headers.get("Authorization")
    if not header:
        return None
    try:
        readings = basic_credentials(header)
    except ValueError:
        return None
    for client_id, secret in readings:
        client = query_client(client_id) if secret else None
        if client is not None and client.check_client_secret(secret):
            return client
    return None


def authenticate_none(query_client: Any, request: Any) -> Client | None:
    """Authlib's `none` method (a public client names itself with client_id in the body),
    except for a request whose Basic header carries a secret: that client tried to
    authenticate and failed, and must not pass as public (gc sends `client_id:` with an
    empty secret for PKCE, which stays public)."""
    header = request.headers.get("Authorization")
    if header:
        try:
            readings = basic_credentials(header)
        except ValueError:
            return None
        if any(secret for _, secret in readings):
            return None
    return _authlib_none(query_client, request)
