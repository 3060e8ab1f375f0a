"""HTTP calls to the token endpoint and the Genesys API, with the standard library only.

urllib keeps `gclogin users me get` light (no requests import); so does importing
service.oauth and logging only where they are used. Redirects are never followed (a
token request must reach the issuer it was meant for, R26); bodies and credentials are
never logged, only method, URL and status.
"""
from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .debug_log import debug
from .environments import Endpoints, origin
from .errors import ApiError, AuthenticationError, NetworkError, NoResponseError, OAuthError, RedirectError
from .untrusted import clean_secret

if TYPE_CHECKING:
    from .oauth import TokenResponse

LOGGER = "gclogin.api"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = "gclogin/0.1"
MAX_BODY = 4 * 1024 * 1024


def basic_auth_header(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1 (R8): form-urlencode id and secret separately, then base64.

    Spaces become %20 rather than "+": both decode the same under form decoding
    (unquote_plus), and servers that merely percent-decode (authlib's unquote) agree too.
    """
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode("ascii")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def client_credentials_token(endpoints: Endpoints, client_id: str, client_secret: str, *,
                             scope: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> TokenResponse:
    """grant_type=client_credentials with HTTP Basic only (R9, R10)."""
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    client_id, client_secret = clean_secret("client_id", client_id), clean_secret("client_secret", client_secret)
    return _token_request(endpoints, form, {"Authorization": basic_auth_header(client_id, client_secret)},
                          timeout)


def exchange_code(endpoints: Endpoints, *, code: str, redirect_uri: str, code_verifier: str,
                  client_id: str, timeout: float = DEFAULT_TIMEOUT) -> TokenResponse:
    """PKCE code exchange at the token endpoint of the login's own issuer (R26)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": code_verifier, "client_id": client_id}
    return _token_request(endpoints, form, {}, timeout)


def get_users_me(endpoints: Endpoints, access_token: str, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """GET /api/v2/users/me as JSON."""
    return api_request(endpoints, "GET", "/api/v2/users/me", access_token, timeout=timeout)


def revoke_token(endpoints: Endpoints, access_token: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """DELETE /api/v2/tokens/me: revoke the token on the server."""
    api_request(endpoints, "DELETE", "/api/v2/tokens/me", access_token, timeout=timeout)


def api_request(endpoints: Endpoints, method: str, path: str, access_token: str, *,
                body: Any = None, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """A bearer-authenticated API call; JSON in and out (None for an empty body).

    401 raises AuthenticationError, other errors ApiError with Genesys's message (§8).
    """
    access_token = clean_secret("access_token", access_token)
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, payload = _send(method, endpoints.api(path), data, headers, timeout)
    parsed = _json_or_none(payload)
    if 200 <= status < 300:
        if payload.strip() and parsed is None:
            raise NetworkError(f"{method} {endpoints.api(path)}: the response is not JSON")
        return parsed
    message, code = f"HTTP error {status}", None
    if isinstance(parsed, dict):
        message = str(parsed.get("message") or message)
        code = str(parsed["code"]) if parsed.get("code") else None
    cls = AuthenticationError if status == 401 else ApiError
    raise cls(status, message, code, parsed if isinstance(parsed, dict) else None)


def _token_request(endpoints: Endpoints, form: dict[str, str], headers: dict[str, str],
                   timeout: float) -> TokenResponse:
    headers = {**headers, "Content-Type": "application/x-www-form-urlencoded",
               "Accept": "application/json"}
    status, payload = _send("POST", endpoints.token_url, urlencode(form).encode(), headers, timeout)
    parsed = _json_or_none(payload)
    if isinstance(parsed, dict) and "error" in parsed:
        raise OAuthError(str(parsed["error"]), _opt(parsed.get("error_description")),
                         _opt(parsed.get("error_uri")))
    if status != 200:
        raise OAuthError("invalid_response", f"the token endpoint answered HTTP {status}")
    from .oauth import token_response_from_json
    try:
        return token_response_from_json(parsed)
    except RedirectError as exc:
        raise OAuthError("invalid_response", f"bad token response: {exc}") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _send(method: str, url: str, data: bytes | None, headers: dict[str, str],
          timeout: float, *, log_url: str | None = None) -> tuple[int, bytes]:
    """One request, redirects not followed; ``log_url`` replaces the URL in the debug log
    (an authorize URL's query holds the login's state)."""
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"User-Agent": USER_AGENT, **headers})
    handlers: list[Any] = [_NoRedirect()]
    if url.startswith("https:"):
        import ssl
        handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context()))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as resp:
            status, payload = resp.status, resp.read(MAX_BODY)
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read(MAX_BODY)
        exc.close()
    except ValueError:
        # Raised while building the request (a header or URL http.client refuses): its text
        # quotes the header, which may be "Bearer <token>" (R25). Never show it.
        raise NetworkError(f"cannot send the request to {origin(url)}: a header or the URL "
                           "holds a character HTTP does not allow") from None
    except urllib.error.URLError as exc:
        # urllib wraps what fails while connecting or sending: the server has no whole request.
        reason = exc.reason if isinstance(exc.reason, OSError) else type(exc.reason).__name__
        raise NetworkError(f"cannot reach {origin(url)}: {reason}") from None
    except (OSError, http.client.HTTPException) as exc:
        # Raised unwrapped while waiting for or reading the answer: the request went out.
        # An HTTPException's text may quote what the server sent: its name is enough.
        reason = exc if isinstance(exc, OSError) else type(exc).__name__
        raise NoResponseError(f"no answer from {origin(url)}: {reason}") from None
    debug("%s %s -> %s", method, log_url or url, status, logger=LOGGER)
    return status, payload


def _json_or_none(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload.strip() else None
    except ValueError:
        return None


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)
