"""The requirements the suite checks, and how a test name maps to one.

A test belongs to requirement X when its name starts with `test_X_` (e.g.
`test_R20_state_unguessable_and_checked_exactly`); the report is built from that.
"""
from __future__ import annotations

import re

REQUIREMENTS: dict[str, str] = {
    "R1": "implicit request: response_type=token, client_id, state (RFC 6749 §4.2.1)",
    "R2": "fragment success: access_token, token_type, state checked, extras ignored (RFC 6749 §4.2.2)",
    "R3": "fragment error: error codes, error_description, state (RFC 6749 §4.2.2.1)",
    "R4": "unknown client / unregistered redirect_uri: error, no redirect (RFC 6749 §4.1.2.1, §3.1.2.4)",
    "R5": "token page: no third-party script/style, CSP nonce, Referrer-Policy no-referrer (RFC 6749 §3.1.2.5; RFC 9700 §4.2.4)",
    "R6": "implicit deprecated: offered, warned, PKCE preferred (RFC 9700 §2.1.2)",
    "R8": "Basic auth: form-urlencode id and secret, then base64 (RFC 6749 §2.3.1)",
    "R9": "one client-authentication method; no credentials in URLs (RFC 6749 §2.3)",
    "R10": "client credentials: grant_type=client_credentials, no refresh token (RFC 6749 §4.4)",
    "R11": "TLS to the authorization server; plain http only for loopback or opt-in",
    "R12": "token responses: Cache-Control no-store, Pragma no-cache (RFC 6749 §5.1)",
    "R13": "PKCE verifier: 43–128 chars of [A-Za-z0-9-._~], high entropy (RFC 7636 §4.1)",
    "R14": "S256 challenge = BASE64URL(SHA256(verifier)), never plain (RFC 7636 §4.2, App. B)",
    "R16": "loopback redirect on 127.0.0.1/[::1] preferred; localhost works too (RFC 8252 §7.3, §8.3)",
    "R17": "loopback ports: exact match by default (Genesys), any port when switched (RFC 8252 §7.3)",
    "R18": "loopback server listens on the loopback interface only (RFC 8252 §8.3)",
    "R19": "loopback server open only for the login; closes after success/error/timeout",
    "R20": "state unguessable (≥128 bits) and checked exactly (RFC 6749 §10.12; RFC 9700 §4.7.1)",
    "R21": "state single-use (RFC 9700 §4.2.4)",
    "R22": "tokens never in URL path/query; fragment relayed as same-origin POST; history scrubbed",
    "R25": "tokens, secrets, codes, verifiers never in logs or output (RFC 6749 §10.3)",
    "R26": "login bound to the issuer it started with (RFC 9700 §4.4.2)",
    "R27": "no open redirects (RFC 9700 §4.11.1)",
    "R28": "secret files 0600, directory 0700, written atomically",
    "R29": "loopback HTTPS: fresh key per login, SAN 127.0.0.1 + localhost, short validity, deleted",
    "G1": "users/me with a client-credentials token: user-context error (REFERENCE §1, §8)",
    "G2": "401 on bad bearer: bad.credentials body + ININ-Correlation-Id (REFERENCE §8)",
    "G3": "token lifetime configurable per client within 300..172800 s (REFERENCE §7)",
    "G4": "redirect URI matched exactly against the registered URI, port included (REFERENCE §1)",
    "G5": "DELETE /api/v2/tokens/me revokes the current token (REFERENCE §4)",
    "G6": "API error body: message, code, status, contextId, details, errors (REFERENCE §8)",
    "G7": "region → environment domain; login.<domain> and api.<domain> (REFERENCE §5)",
    "G8": "authorization code single-use and bound to its redirect_uri (RFC 6749 §4.1.2, §4.1.3)",
}

#: numbers REFERENCE §7 skips: no requirement R7, R15, R23 or R24 exists, so none is checked.
UNUSED = ("R7", "R15", "R23", "R24")

_TEST_NAME = re.compile(r"^test_(?P<req>[RG]\d+)_")


def requirement_of(test_name: str) -> str | None:
    """The requirement id a test name declares, or None for harness tests."""
    match = _TEST_NAME.match(test_name)
    return match.group("req") if match and match.group("req") in REQUIREMENTS else None
