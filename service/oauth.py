"""Pure OAuth helpers: state, PKCE, the authorize URL, and parsing of the redirect.

Everything here is free of I/O. Parsing only ever raises RedirectError (StateError for
state problems) or OAuthError (an RFC 6749 error response), never anything else.
authlib is imported inside the functions that use it so that reading a cached token
never imports it.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlencode

from .environments import Endpoints
from .errors import OAuthError, RedirectError, StateError
from .profiles import GrantType, TokenData
from .untrusted import has_control

#: longer redirects are refused outright (browsers cap URLs well below this)
MAX_REDIRECT_LENGTH = 64 * 1024
STATE_LENGTH = 43          # 43 chars of 62 symbols ≈ 256 bits (R20 asks for ≥128)
VERIFIER_LENGTH = 64       # RFC 7636 §4.1: 43..128
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def new_state() -> str:
    """A fresh unguessable state (R20); use it for one login only (R21)."""
    from authlib.common.security import generate_token
    return generate_token(STATE_LENGTH)


def new_code_verifier(length: int = VERIFIER_LENGTH) -> str:
    """A PKCE code verifier of ``length`` unreserved characters (R13)."""
    if not 43 <= length <= 128:
        raise ValueError("a code verifier is 43 to 128 characters (RFC 7636 §4.1)")
    from authlib.common.security import generate_token
    return generate_token(length)


def is_valid_code_verifier(verifier: str) -> bool:
    return 43 <= len(verifier) <= 128 and set(verifier) <= _UNRESERVED


def code_challenge_s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (R14); never 'plain'."""
    if not is_valid_code_verifier(verifier):
        raise ValueError("invalid code verifier (RFC 7636 §4.1)")
    from authlib.oauth2.rfc7636 import create_s256_code_challenge
    return create_s256_code_challenge(verifier)


def build_authorize_url(authorize_url: str, *, response_type: str, client_id: str,
                        redirect_uri: str, state: str, code_challenge: str | None = None,
                        scope: str | None = None) -> str:
    """The authorization request URL (R1; PKCE adds an S256 challenge). Holds no secret."""
    if response_type not in ("token", "code"):
        raise ValueError(f"response_type must be 'token' or 'code', not {response_type!r}")
    if not client_id or not redirect_uri or not state:
        raise ValueError("client_id, redirect_uri and state are required")
    params = [("response_type", response_type), ("client_id", client_id),
              ("redirect_uri", redirect_uri), ("state", state)]
    if response_type == "code":
        if not code_challenge:
            raise ValueError("a code request needs a PKCE code_challenge")
        params += [("code_challenge", code_challenge), ("code_challenge_method", "S256")]
    if scope:
        params.append(("scope", scope))
    query = urlencode(params, quote_via=quote, safe="")
    base, _, existing = authorize_url.partition("?")
    return f"{base}?{existing + '&' if existing else ''}{query}"


@dataclass(frozen=True, repr=False)
class TokenResponse:
    """A successful token (from a fragment or the token endpoint). repr hides the token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int | None = None
    scope: str | None = None

    def __repr__(self) -> str:
        return f"TokenResponse(token_type={self.token_type!r}, expires_in={self.expires_in!r}, access_token=***)"

    def to_token_data(self, now: datetime | None = None) -> TokenData:
        return TokenData.issued(self.access_token, self.token_type, self.expires_in, now)


@dataclass(frozen=True, repr=False)
class PendingLogin:
    """What a callback needs to finish one browser login; bound to its issuer (R26)."""

    grant: GrantType
    client_id: str
    redirect_uri: str
    endpoints: Endpoints
    state: str
    code_verifier: str | None = None
    scope: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # free for the caller (e.g. profile name)

    def __repr__(self) -> str:
        return (f"PendingLogin(grant={self.grant.name}, client_id={self.client_id!r}, "
                f"redirect_uri={self.redirect_uri!r})")

    @property
    def response_type(self) -> str:
        return "token" if self.grant is GrantType.IMPLICIT else "code"

    def authorize_url(self, authorize_endpoint: str | None = None) -> str:
        """The URL to send the browser to (``authorize_endpoint`` if the browser-facing one differs)."""
        return build_authorize_url(
            authorize_endpoint or self.endpoints.authorize_url, response_type=self.response_type,
            client_id=self.client_id, redirect_uri=self.redirect_uri, state=self.state,
            code_challenge=code_challenge_s256(self.code_verifier) if self.code_verifier else None,
            scope=self.scope)


def start_login(grant: GrantType, *, client_id: str, redirect_uri: str, endpoints: Endpoints,
                scope: str | None = None, data: Mapping[str, Any] | None = None) -> PendingLogin:
    """A new pending implicit or PKCE login with fresh state (and verifier)."""
    if not grant.is_browser:
        raise ValueError("only implicit and PKCE logins go through the browser")
    return PendingLogin(grant=grant, client_id=client_id, redirect_uri=redirect_uri,
                        endpoints=endpoints, state=new_state(),
                        code_verifier=new_code_verifier() if grant is GrantType.PKCE else None,
                        scope=scope, data=dict(data or {}))


def parse_params(raw: str) -> dict[str, str]:
    """Decode a query or fragment (leading ``?``/``#`` allowed) as form-urlencoded.

    Empty values count as absent (RFC 6749 §3.1); a repeated parameter is refused.
    """
    if not isinstance(raw, str):
        raise RedirectError("the redirect is not text")
    if len(raw) > MAX_REDIRECT_LENGTH:
        raise RedirectError("the redirect is too long")
    if raw[:1] in ("?", "#"):
        raw = raw[1:]
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise RedirectError("the redirect parameters are not valid UTF-8 form encoding") from None
    out: dict[str, str] = {}
    for name, value in pairs:
        if value == "":
            continue
        if name in out:
            raise RedirectError(f"parameter {_safe_name(name)} is repeated")
        out[name] = value
    return out


def state_matches(received: str | None, expected: str) -> bool:
    """Constant-time exact comparison (R20); a missing state never matches.

    ``surrogatepass``: a percent-decoded query may hold lone surrogates; they compare
    unequal instead of raising.
    """
    if not received or not expected:
        return False
    return hmac.compare_digest(received.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def check_state(received: str | None, expected: str) -> None:
    """state_matches, or StateError saying what is wrong."""
    if not expected:
        raise StateError("no login is waiting for a response")
    if not received:
        raise StateError("the response has no state: refused (possible CSRF)")
    if not state_matches(received, expected):
        raise StateError("the response's state does not match this login: refused (possible CSRF)")


def raise_for_error(params: Mapping[str, str]) -> None:
    """Turn an RFC 6749 error response into OAuthError."""
    if "error" in params:
        raise OAuthError(params["error"], params.get("error_description"), params.get("error_uri"))


def parse_implicit_response(fragment: str, expected_state: str) -> TokenResponse:
    """Parse the implicit redirect's fragment (R2, R3): state first, then error, then token."""
    params = parse_params(fragment)
    check_state(params.get("state"), expected_state)
    raise_for_error(params)
    return _token_from_params(params)


def parse_code_response(query: str, expected_state: str, expected_issuer: str | None = None) -> str:
    """The authorization code from a PKCE redirect's query (state checked, errors raised)."""
    params = parse_params(query)
    check_state(params.get("state"), expected_state)
    if expected_issuer and "iss" in params and params["iss"].rstrip("/") != expected_issuer.rstrip("/"):
        raise RedirectError("the response comes from another issuer: refused (mix-up, R26)")
    raise_for_error(params)
    if "code" not in params:
        raise RedirectError("the response has no code")
    return params["code"]


def token_response_from_json(data: Any) -> TokenResponse:
    """Validate a token endpoint JSON body (RFC 6749 §5.1/§5.2)."""
    if not isinstance(data, dict):
        raise RedirectError("the token response is not a JSON object")
    if "error" in data:
        raise OAuthError(str(data["error"]), _opt_str(data.get("error_description")),
                         _opt_str(data.get("error_uri")))
    params = {k: str(v) for k, v in data.items() if v is not None and not isinstance(v, (dict, list))}
    return _token_from_params(params)


def _token_from_params(params: Mapping[str, str]) -> TokenResponse:
    token = (params.get("access_token") or "").strip()
    if not token:
        raise RedirectError("the response has no access_token")
    if has_control(token):
        raise RedirectError("the access_token holds a control character (not shown): refused")
    token_type = params.get("token_type")
    if not token_type:
        raise RedirectError("the response has no token_type")
    if token_type.lower() != "bearer":
        raise RedirectError(f"unsupported token_type {_safe_name(token_type)}")
    expires_in = None
    if "expires_in" in params:
        raw = params["expires_in"]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
            raise RedirectError("expires_in is not a number of seconds")
        expires_in = int(raw)
    return TokenResponse(access_token=token, token_type="bearer", expires_in=expires_in,
                         scope=params.get("scope"))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _safe_name(name: str) -> str:
    """A parameter name or value for a message: short and printable."""
    shown = "".join(c if c.isprintable() else "?" for c in name[:40])
    return repr(shown + ("…" if len(name) > 40 else ""))
