"""The IdP the suite plays for a client: the bundled mock behind a recording, adversarial
WSGI middleware.

The middleware records what the client sent (authorize parameters, token requests, API
calls) and, per login, bends what the mock answers: the redirect back to the client
(forged, missing or replayed state, an error with markup, an odd token_type, no
expires_in, an `iss` naming another issuer) and the token response (PKCE). The run's `Login` object holds the setting,
so nothing is global.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

#: the error_description the "error_markup" scenario sends: markup and a terminal escape
MARKUP = '<b id="cf-markup">bold</b><img src=x id="cf-img"> \x1b[2J\x1b]0;owned\x07'


@dataclasses.dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorization: str


@dataclasses.dataclass
class Login:
    """One login's adversarial setting and what the IdP saw and issued during it."""

    scenario: str = "normal"
    replay_state: str = ""
    redirect_bases: tuple[str, ...] = ()
    exchanges: list[Exchange] = dataclasses.field(default_factory=list)
    issued: list[str] = dataclasses.field(default_factory=list)   # access tokens and codes handed out
    sent_state: str = ""                                          # the state the redirect carried
    other_issuer: str = ""                                        # the iss the mixup_iss scenario sends

    def authorize_params(self) -> dict[str, str]:
        found = [e.query for e in self.exchanges if e.path.endswith("/oauth/authorize")]
        return found[0] if found else {}

    def token_requests(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.path.endswith("/oauth/token")]

    def api_calls_with(self, value: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.path.startswith("/api/") and value and value in e.authorization]


def basic_credentials_strict(header: str) -> tuple[str, str] | None:
    """(client_id, client_secret) as RFC 6749 §2.3.1 reads a Basic header: base64, split at the
    first ':', each half form-urldecoded; None when it is not Basic credentials at all (pure)."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = base64.b64decode(value.strip().encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        return None
    raw_id, sep, raw_secret = text.partition(":")
    return (unquote_plus(raw_id), unquote_plus(raw_secret)) if sep else None


def _split(location: str) -> tuple[str, str, dict[str, str]]:
    for sep in ("#", "?"):
        if sep in location:
            base, _, params = location.partition(sep)
            return base, sep, dict(parse_qsl(params, keep_blank_values=True))
    return location, "?", {}


def bend_redirect(location: str, login: Login) -> str:
    """The redirect back to the client, changed as the login's scenario says (pure)."""
    base, sep, params = _split(location)
    login.issued += [v for k, v in params.items() if k in ("access_token", "code")]
    scenario = login.scenario
    if scenario == "forged_state":
        params["state"] = secrets.token_urlsafe(24)
    elif scenario == "missing_state":
        params.pop("state", None)
    elif scenario == "replayed_state" and login.replay_state:
        params["state"] = login.replay_state
    elif scenario == "error_markup":
        params = {"error": "access_denied", "error_description": MARKUP, "state": params.get("state", "")}
    elif scenario.startswith("token_type_") and "access_token" in params:
        params["token_type"] = scenario.removeprefix("token_type_")
    elif scenario == "no_expires_in":
        params.pop("expires_in", None)
    elif scenario == "mixup_iss":  # RFC 9207: the response says another issuer produced it
        params["iss"] = login.other_issuer
    login.sent_state = params.get("state", "")
    return base + sep + urlencode(params)


def bend_token_response(body: bytes, login: Login) -> bytes:
    try:
        data: dict[str, Any] = json.loads(body)
    except ValueError:
        return body
    if "access_token" in data:
        login.issued.append(str(data["access_token"]))
        if login.scenario.startswith("token_type_"):
            data["token_type"] = login.scenario.removeprefix("token_type_")
        elif login.scenario == "no_expires_in":
            data.pop("expires_in", None)
    return json.dumps(data).encode()


class AdversarialIdp:
    """WSGI middleware around the mock; `login` is the current login (set by the harness)."""

    def __init__(self, app) -> None:
        self.app = app
        self.login = Login()

    def __call__(self, environ, start_response):
        login = self.login
        form: dict[str, str] = {}
        if environ.get("REQUEST_METHOD") == "POST" and "form" in environ.get("CONTENT_TYPE", ""):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(raw)
            form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        path = environ.get("PATH_INFO", "")
        login.exchanges.append(Exchange(environ.get("REQUEST_METHOD", ""), path,
                                        dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
                                        form, environ.get("HTTP_AUTHORIZATION", "")))
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        headers = list(captured["headers"])
        for i, (name, value) in enumerate(headers):
            if name.lower() == "location" and value.startswith(login.redirect_bases or ("\0",)):
                headers[i] = (name, bend_redirect(value, login))
        if path.endswith("/oauth/token"):
            body = bend_token_response(body, login)
            headers = [(n, str(len(body)) if n.lower() == "content-length" else v) for n, v in headers]
        start_response(captured["status"], headers)
        return [body]
