"""The CLI's loopback server under hostile traffic during a login (R18-R22).

While one login waits, junk arrives concurrently: wrong or missing state, a replayed
callback from an earlier login, huge bodies and queries, non-loopback Host headers,
other paths and methods, raw garbage and half-sent requests. None of it may crash the
server or complete the login, and the real callback must still succeed afterwards.
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from mock_idp.testing import demo_seed
from service.oauth import TokenResponse
from service.profiles import GrantType

from .browser import sign_in
from .loopback_login import LoopbackLogin

TIMEOUT = 10.0
SEED = demo_seed()
CLIENTS = {GrantType.IMPLICIT: next(c.id for c in SEED.clients if c.authorized_grant_type == "TOKEN"),
           GrantType.PKCE: next(c.id for c in SEED.clients if c.authorized_grant_type == "CODE")}

Junk = Callable[[str, int, str], object]   # (base URL, port, stale state) -> anything


def _get(base: str, query: dict | str = "", **kw) -> int:
    q = query if isinstance(query, str) else urlencode(query)
    return requests.get(f"{base}/?{q}" if q else f"{base}/", timeout=TIMEOUT,
                        allow_redirects=False, **kw).status_code


def _post(base: str, fragment: str, path: str = "/", **kw) -> int:
    return requests.post(base + path, data={"fragment": fragment}, timeout=TIMEOUT,
                         allow_redirects=False, **kw).status_code


def _raw(port: int, payload: bytes, read: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(payload)
        if not read:
            return b""
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


TOKEN_FRAGMENT = "access_token=forged-token-123456&token_type=bearer&expires_in=3600"

JUNK: dict[str, Junk] = {
    "wrong state (code)": lambda b, p, s: _get(b, {"code": "forged", "state": "wrong"}),
    "wrong state (fragment)": lambda b, p, s: _post(b, TOKEN_FRAGMENT + "&state=wrong"),
    "missing state (code)": lambda b, p, s: _get(b, {"code": "forged"}),
    "missing state (fragment)": lambda b, p, s: _post(b, TOKEN_FRAGMENT),
    "error without state": lambda b, p, s: _get(b, {"error": "access_denied"}),
    "replayed callback (code)": lambda b, p, s: _get(b, {"code": "old-code", "state": s}),
    "replayed callback (fragment)": lambda b, p, s: _post(b, f"{TOKEN_FRAGMENT}&state={s}"),
    "huge body": lambda b, p, s: _post(b, "state=x&" + "a" * 8_000_000),
    "huge query": lambda b, p, s: _get(b, "state=" + "s" * 200_000),
    "many parameters": lambda b, p, s: _post(b, "&".join(f"k{i}=v" for i in range(20_000))),
    "non-loopback Host": lambda b, p, s: _get(b, headers={"Host": "evil.example"}),
    "non-loopback Host + wrong state": lambda b, p, s: _post(
        b, TOKEN_FRAGMENT + "&state=wrong", headers={"Host": "evil.example:80"}),
    "other paths": lambda b, p, s: [requests.request(m, b + path, timeout=TIMEOUT).status_code
                                    for m, path in [("GET", "/favicon.ico"), ("GET", "/admin"),
                                                    ("POST", "/callback"), ("GET", "/..%2f..%2fetc/passwd"),
                                                    ("PUT", "/"), ("DELETE", "/"), ("OPTIONS", "/")]],
    "POST without a body": lambda b, p, s: requests.post(b + "/", timeout=TIMEOUT).status_code,
    "cross-site POST": lambda b, p, s: _post(b, TOKEN_FRAGMENT + "&state=wrong",
                                              headers={"Origin": "http://127.0.0.1:1"}),
    "garbage bytes": lambda b, p, s: _raw(p, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 50),
    "bad request line": lambda b, p, s: _raw(p, b"GET /?state=x HTTP/9.9 extra\r\n\r\n"),
    "huge header": lambda b, p, s: _raw(p, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: "
                                        + b"h" * 200_000 + b"\r\n\r\n"),
}


def _half_open(port: int, sockets: list[socket.socket]) -> None:
    """Connections that send half a request's headers and then wait (slowloris)."""
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        sockets.append(s)


def _stale_state(idp_url: str, grant: GrantType) -> str:
    """The state of an earlier, finished login: what a replayed callback carries."""
    earlier = LoopbackLogin(grant, CLIENTS[grant], idp_url)
    _complete(earlier)
    assert isinstance(earlier.outcome(), TokenResponse)
    return earlier.state


def _complete(login: LoopbackLogin) -> requests.Response:
    """The real browser: sign in at the IdP, then follow the redirect to the loopback."""
    location = sign_in(login.authorize_url)
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == login.redirect_uri, location
    if parts.fragment:   # implicit: the relay page's script POSTs the fragment
        return requests.post(login.redirect_uri + "/", data={"fragment": parts.fragment},
                             timeout=TIMEOUT)
    return requests.get(location, timeout=TIMEOUT)


def _fire(login: LoopbackLogin, stale: str, names: list[str], rounds: int) -> list[str]:
    """Send the named junk `rounds` times from 8 threads; returns the unexpected failures."""
    problems: list[str] = []
    lock = threading.Lock()

    def one(name: str) -> None:
        try:
            result = JUNK[name](login.redirect_uri, login.port, stale)
        except (TimeoutError, requests.ConnectionError, ConnectionError):
            return  # the server may drop junk connections: that is fine while it lives
        statuses = result if isinstance(result, list) else [result]
        for status in statuses:
            if isinstance(status, int) and status >= 500:
                with lock:
                    problems.append(f"{name}: HTTP {status}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, [n for _ in range(rounds) for n in names]))
    return problems


@pytest.fixture(scope="module")
def stale(idp_url: str) -> dict[GrantType, str]:
    return {grant: _stale_state(idp_url, grant) for grant in CLIENTS}


def _assert_survives(idp_url: str, grant: GrantType, names: list[str], rounds: int,
                     stale: str) -> None:
    login = LoopbackLogin(grant, CLIENTS[grant], idp_url)
    held: list[socket.socket] = []
    try:
        _half_open(login.port, held)
        problems = _fire(login, stale, names, rounds)
        assert not problems, problems
        assert not login.finished(), f"junk ended the login: {login.outcome()!r}"
        response = _complete(login)
        outcome = login.outcome()
    finally:
        for s in held:
            s.close()
    assert response.status_code == 200, response.text[:300]
    assert isinstance(outcome, TokenResponse), f"the real callback failed: {outcome!r}"


@pytest.mark.slow
@pytest.mark.parametrize("grant", [GrantType.IMPLICIT, GrantType.PKCE], ids=["implicit", "pkce"])
def test_concurrent_junk_then_real_callback_succeeds(idp_url: str, stale: dict,
                                                     grant: GrantType) -> None:
    """Every kind of junk, 3 rounds from 8 threads, while the login waits (R18-R22)."""
    _assert_survives(idp_url, grant, list(JUNK), rounds=3, stale=stale[grant])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(JUNK))
def test_each_junk_kind_alone(idp_url: str, stale: dict, name: str) -> None:
    """The same, one kind at a time, so a failure names the request that did it."""
    _assert_survives(idp_url, GrantType.IMPLICIT, [name], rounds=1, stale=stale[GrantType.IMPLICIT])
