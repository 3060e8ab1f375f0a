"""What the control API accepts and answers, as pure functions: bodies in, specs out.

Every parser raises BadField naming the first bad field, so the API's 400 (and the
pytest fixture's ValueError) says what to fix. Redaction is here too: what the mock
received is shown to tests, never with a secret in it.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .models import VALIDITY_MAX

PREFIX = "/mock"
MAX_COUNT = 10_000
MAX_DELAY = 120.0
MAX_RETRY_AFTER = 3600
FAULT_KINDS = ("status", "delay", "drop", "rate_limit")
# RFC 6749 §4.1.2.1 / §4.2.2.1 errors an authorization server may redirect with.
LOGIN_ERRORS = ("access_denied", "invalid_request", "unauthorized_client", "unsupported_response_type",
                "invalid_scope", "server_error", "temporarily_unavailable")
REDACTED = "[redacted]"
SECRET_FIELDS = frozenset({"client_secret", "code", "code_verifier", "refresh_token", "password",
                           "access_token", "id_token", "token", "secret", "csrf_token", "request_id",
                           "assertion", "client_assertion"})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_ERROR_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")  # RFC 6749 error_description chars
_ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3
_METHOD = re.compile(r"[A-Z]{1,16}")
# Genesys error codes by status, for faults on /api/v2 paths that name none.
_GENESYS_CODES = {400: "bad.request", 401: "bad.credentials", 403: "missing.permissions",
                  404: "not.found", 409: "conflict", 429: "too.many.requests",
                  500: "internal.server.error", 502: "bad.gateway", 503: "service.unavailable",
                  504: "gateway.timeout"}


class BadField(ValueError):
    """A control request body is wrong; `field` names where."""

    def __init__(self, field: str, problem: str, message: str | None = None) -> None:
        super().__init__(message or f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise BadField("body", "must be a JSON object")
    return body


def _known(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    for name in sorted(set(body) - set(allowed)):
        raise BadField(name, f"unknown field (expected one of {', '.join(sorted(allowed))})")


def _text(body: Mapping[str, Any], name: str, pattern: re.Pattern[str] | None = None,
          limit: int = 200) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadField(name, "must be a non-empty string")
    if len(value) > limit or (pattern is not None and not pattern.fullmatch(value)):
        raise BadField(name, f"must be at most {limit} printable ASCII characters"
                       + (" without \" or \\" if pattern is _ERROR_TEXT or pattern is _ERROR_CODE else ""))
    return value


def _int(body: Mapping[str, Any], name: str, low: int, high: int, default: int | None) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadField(name, f"must be an integer from {low} to {high}")
    return value


def _number(body: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise BadField(name, f"must be a number from {low:g} to {high:g}")
    return float(value)


# -- faults ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    """What to do to the next `count` requests matching `method` and `path` (None: any)."""
    kind: str
    count: int = 1
    path: str | None = None
    method: str | None = None
    status: int = 0                       # kind "status"
    error: str | None = None              # OAuth error / Genesys code of the body
    message: str | None = None            # error_description / Genesys message
    body: dict[str, Any] | None = None    # the whole JSON body instead
    seconds: float = 0.0                  # kind "delay"
    retry_after: int = 0                  # kind "rate_limit"

    def matches(self, method: str, path: str) -> bool:
        return (self.path is None or self.path == path) and (self.method is None or self.method == method)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, 0, 0.0) or k == "count"}


_FAULT_FIELDS = {"status": {"status", "error", "message", "body"}, "delay": {"seconds"}, "drop": set(),
                 "rate_limit": {"retry_after", "error", "message", "body"}}


def parse_fault(raw: Any) -> Fault:
    body = _object(raw)
    kind = body.get("kind", "status" if "status" in body else None)
    if kind not in FAULT_KINDS:
        raise BadField("kind", f"must be one of {', '.join(FAULT_KINDS)}")
    _known(body, {"kind", "count", "path", "method"} | _FAULT_FIELDS[kind])
    path = _text(body, "path", limit=2000)
    if path is not None and (not path.startswith("/") or path.startswith(PREFIX + "/") or path == PREFIX):
        raise BadField("path", f"must be a path starting with / (not under {PREFIX}/)")
    method = _text(body, "method", _METHOD, limit=16)
    extra: dict[str, Any] = {}
    if kind in ("status", "rate_limit"):
        if kind == "status":
            status = _int(body, "status", 400, 599, None)
            if status is None:
                raise BadField("status", "is required for a status fault (400 to 599)")
            extra["status"] = status
        else:
            extra["retry_after"] = _int(body, "retry_after", 0, MAX_RETRY_AFTER, 1)
        extra["error"] = _text(body, "error", _ERROR_CODE, limit=100)
        extra["message"] = _text(body, "message", _ERROR_TEXT, limit=500)
        if body.get("body") is not None:
            if not isinstance(body["body"], dict):
                raise BadField("body", "must be a JSON object (the whole response body)")
            extra["body"] = body["body"]
    if kind == "delay":
        seconds = _number(body, "seconds", 0.001, MAX_DELAY)
        if seconds is None:
            raise BadField("seconds", f"is required for a delay fault (up to {MAX_DELAY:g})")
        extra["seconds"] = seconds
    return Fault(kind=kind, count=_int(body, "count", 1, MAX_COUNT, 1) or 1, path=path, method=method, **extra)


def fault_from_json(data: Mapping[str, Any]) -> Fault:
    """A fault as stored (to_json's output); trusted: it was parsed before it was stored."""
    return Fault(**data)


def fault_answer(fault: Fault, path: str, context_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a status or rate_limit fault on `path`.

    Genesys's API error shape on /api/ paths; an RFC 6749 §5.2 error elsewhere (the
    token endpoint, which is what the rest of the mock answers that way).
    """
    status = 429 if fault.kind == "rate_limit" else fault.status
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    if fault.kind == "rate_limit":
        headers.append(("Retry-After", str(fault.retry_after)))
        default = f"Rate limit exceeded the maximum. Retry the request in [{fault.retry_after}] seconds"
    else:
        default = f"The mock was told to fail this request with HTTP {status}."
    message = fault.message or default
    if fault.body is not None:
        body: dict[str, Any] = fault.body
    elif path.startswith("/api/"):
        headers.append(("ININ-Correlation-Id", context_id))
        body = {"message": message, "code": fault.error or _GENESYS_CODES.get(status, "bad.request"),
                "status": status, "contextId": context_id, "details": [], "errors": []}
    else:
        if fault.kind == "rate_limit" or status == 503:
            error = "temporarily_unavailable"
        else:
            error = "server_error" if status >= 500 else "invalid_request"
        body = {"error": fault.error or error, "error_description": message}
    return status, headers, json.dumps(body).encode()


# -- scripted sign-ins ----------------------------------------------------------------
@dataclass(frozen=True)
class ScriptedLogin:
    """The next `count` sign-ins (of `client_id`, or any client): as `user`, denied, or an error."""
    outcome: str                  # "user", "deny" or "error"
    user: str | None = None       # a user id or username
    error: str | None = None
    error_description: str | None = None
    client_id: str | None = None
    count: int = 1

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse_next_login(raw: Any) -> ScriptedLogin:
    """{"user": "alice@example.com"} | {"outcome": "deny"} | {"outcome": "error=temporarily_unavailable"}."""
    body = _object(raw)
    _known(body, {"user", "outcome", "client_id", "count", "error_description"})
    user = _text(body, "user", limit=300)
    outcome = _text(body, "outcome", limit=100)
    if (user is None) == (outcome is None):
        raise BadField("user", "give either 'user' (an id or username) or 'outcome' ('deny' or 'error=<code>')")
    description = _text(body, "error_description", _ERROR_TEXT, limit=500)
    client_id = _text(body, "client_id", limit=300)
    count = _int(body, "count", 1, MAX_COUNT, 1) or 1
    if user is not None:
        if description is not None:
            raise BadField("error_description", "only goes with an error outcome")
        return ScriptedLogin("user", user=user, client_id=client_id, count=count)
    if outcome == "deny":
        return ScriptedLogin("deny", error_description=description, client_id=client_id, count=count)
    error = (outcome or "").removeprefix("error=")
    if not (outcome or "").startswith("error=") or error not in LOGIN_ERRORS:
        raise BadField("outcome", f"must be 'deny' or 'error=<code>' with a code of {', '.join(LOGIN_ERRORS)}")
    return ScriptedLogin("error", error=error, error_description=description, client_id=client_id,
                         count=count)


def login_from_json(data: Mapping[str, Any]) -> ScriptedLogin:
    return ScriptedLogin(**data)


# -- tokens and the clock -------------------------------------------------------------
@dataclass(frozen=True)
class TokenOrder:
    client_id: str
    user: str | None = None
    expires_in: int | None = None      # None: the client's validity
    scope: str | None = None           # None: the client's scope


def parse_token_order(raw: Any) -> TokenOrder:
    body = _object(raw)
    _known(body, {"client_id", "user", "expires_in", "scope"})
    client_id = _text(body, "client_id", limit=300)
    if client_id is None:
        raise BadField("client_id", "is required")
    scope = body.get("scope")
    if isinstance(scope, list):
        if not all(isinstance(s, str) for s in scope):
            raise BadField("scope", "must be a string of space-separated scopes, or a list of them")
        scope = " ".join(scope)
    if scope is not None:
        if not isinstance(scope, str) or not all(_SCOPE_TOKEN.fullmatch(s) for s in scope.split()):
            raise BadField("scope", "must be a string of space-separated scopes, or a list of them "
                           "(RFC 6749 §3.3 characters)")
        scope = " ".join(scope.split())
    return TokenOrder(client_id=client_id, user=_text(body, "user", limit=300),
                      expires_in=_int(body, "expires_in", 0, VALIDITY_MAX, None), scope=scope)


def parse_clock_move(raw: Any, base_now: float, offset: float) -> float:
    """The new clock offset for {"advance": seconds} or {"set": epoch seconds}."""
    body = _object(raw)
    _known(body, {"advance", "set"})
    if ("advance" in body) == ("set" in body):
        raise BadField("advance", "give either 'advance' (seconds, may be negative) or 'set' (epoch seconds)")
    if "advance" in body:
        seconds = _number(body, "advance", -10 * 365 * 86400, 10 * 365 * 86400)
        assert seconds is not None
        return offset + seconds
    target = _number(body, "set", 0, 2 ** 33)
    assert target is not None
    return target - base_now


# -- received requests ----------------------------------------------------------------
def redact_header(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, rest = value.partition(" ")
    # Keep the scheme ("Basic", "Bearer"): which authentication a client used is what tests check.
    return f"{scheme} {REDACTED}" if rest and name.lower().endswith("authorization") else REDACTED


def redact_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Form or query fields as {name: value}, repeated names as lists, secrets redacted."""
    shown: dict[str, Any] = {}
    for name, value in pairs:
        value = REDACTED if name in SECRET_FIELDS else value
        if name in shown:
            shown[name] = [*shown[name], value] if isinstance(shown[name], list) else [shown[name], value]
        else:
            shown[name] = value
    return shown


def redact_json(value: Any) -> Any:
    """A JSON body with the value of every secret-named key redacted, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_FIELDS or k.lower().endswith("secret") else redact_json(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value
