"""Failures that explain themselves: what was expected, what happened, and the exchange.

A check calls `expect(ok, expected=..., actual=...)`; when `ok` is false it raises
`CheckFailed`, whose text reads "expected: ...; actual: ..." and which carries an excerpt
of the HTTP exchange (secrets redacted) for the report.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import requests

#: query/form/JSON/header fields whose values never reach a report.
SECRET_FIELDS = ("access_token", "refresh_token", "id_token", "code", "code_verifier", "client_secret",
                 "password", "secret", "token")
_FIELD = re.compile(r"(?P<k>\b(?:" + "|".join(SECRET_FIELDS) + r"))(?P<sep>\"?\s*[=:]\s*\"?)(?P<v>[^&\s\"',}]+)",
                    re.IGNORECASE)
_AUTH = re.compile(r"(?P<k>\b(?:Basic|Bearer))\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


class CheckFailed(AssertionError):
    """A requirement check failed; `expected`, `actual` and `exchange` go into the report."""

    def __init__(self, expected: str, actual: str, exchange: str = "") -> None:
        self.expected, self.actual, self.exchange = expected, actual, exchange
        super().__init__(f"expected: {expected}; actual: {actual}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """text with secret-looking fields, Basic/Bearer credentials and the given values masked."""
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, "***")
    text = _AUTH.sub(lambda m: f"{m.group('k')} ***", text)
    return _FIELD.sub(lambda m: f"{m.group('k')}{m.group('sep')}***", text)


def _kind_of_page(response: requests.Response) -> str:
    body = response.text or ""
    ctype = response.headers.get("Content-Type", "")
    if "json" in ctype:
        return "a JSON body " + " ".join(body[:160].split())
    if 'type="password"' in body or "type='password'" in body:
        return "a sign-in page"
    if not body.strip():
        return "an empty body"
    title = re.search(r"<title>([^<]*)</title>", body, re.I)
    return f"a page titled {title.group(1).strip()!r}" if title else f"a {ctype or 'body'}"


def describe(response: requests.Response) -> str:
    """One phrase for what the server answered, e.g. "200 with a sign-in page"."""
    location = response.headers.get("Location")
    if location is not None:
        return f"{response.status_code} redirecting to {redact(location)}"
    return f"{response.status_code} with {_kind_of_page(response)}"


def excerpt(response: requests.Response | None, secrets: Iterable[str] = (), limit: int = 600) -> str:
    """The request line and the response's status, key headers and body start, redacted."""
    if response is None:
        return ""
    request = response.request
    lines = [f"> {request.method} {request.url}"]
    body = request.body
    if body:
        lines.append("> " + (body.decode(errors="replace") if isinstance(body, bytes) else str(body))[:300])
    lines.append(f"< {response.status_code} {response.reason or ''}".rstrip())
    for name in ("Location", "Content-Type", "Cache-Control", "Pragma", "WWW-Authenticate"):
        if name in response.headers:
            lines.append(f"< {name}: {response.headers[name]}")
    text = response.text or ""
    if text:
        lines.append("< " + " ".join(text.split())[:limit])
    return redact("\n".join(lines), secrets)


def expect(ok: object, expected: str, actual: str | None = None, *, response: requests.Response | None = None,
           secrets: Iterable[str] = ()) -> None:
    """Raise CheckFailed (expected vs actual, with the exchange) unless ok."""
    if ok:
        return
    shown = actual if actual is not None else ("the server answered " + describe(response) if response is not None
                                               else "it did not")
    raise CheckFailed(expected, redact(shown, secrets), excerpt(response, secrets))


def expect_no_redirect(response: requests.Response, why: str = "") -> None:
    """R4-style: an error page (4xx/5xx) and no Location header."""
    expect(response.status_code >= 400 and "Location" not in response.headers,
           f"a 4xx error page without redirect{' (' + why + ')' if why else ''}",
           response=response)


def expect_redirect(response: requests.Response, what: str) -> str:
    """A 302/303 redirect; returns its Location."""
    expect(response.status_code in (302, 303) and "Location" in response.headers, f"a redirect {what}",
           response=response)
    return response.headers["Location"]
