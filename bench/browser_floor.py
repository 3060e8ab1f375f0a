"""The browser's own share of a warm login, measured in the same run: the floor.

The same navigations and keystrokes as a login (new tab, login form, credentials typed,
Enter, POST answered by a 302 to ``localhost``), against two standard-library servers
that do nothing: no IdP, no CLI, no config write. PKCE's floor ends when the callback's
GET arrives (its query carries the code); implicit's when a relay page, rendered from
that redirect, has POSTed its fragment back with fetch() as ours does: only a page
running in the browser can read a fragment, and the redirect is cross-site (a new
renderer process). What a warm login costs above its floor is ours; the floor itself is
Chromium and the driver on this machine.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.login import STAGES, LoginRun, type_credentials, submit

# The mock's login form, reduced to what the keystrokes need.
_FORM = (b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>'
         b'<body><form method="post"><input id="username" name="username" autofocus>'
         b'<input id="password" name="password" type="password"><button id="login">Sign in</button>'
         b'</form></body></html>')
_DONE = b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Done</title></head></html>'
_RELAY = (b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Relay</title></head><body>'
          b'<script>fetch("/", {method: "POST", body: new URLSearchParams({fragment: location.hash})});'
          b'</script></body></html>')
_REDIRECTS = {"pkce": "/?code=floor&state=floor", "implicit": "/#access_token=floor&state=floor"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None

    def _send(self, status: int, body: bytes = b"", location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)


class _IdP(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        self._send(200, _FORM)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 65536))
        flow = "implicit" if "implicit" in self.path else "pkce"
        self._send(302, location=f"http://localhost:{self.server.callback_port}{_REDIRECTS[flow]}")


class _Callback(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        if "code=" in self.path:
            self._arrived()
            self._send(200, _DONE)
        else:
            self._send(200, _RELAY)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 65536))
        self._arrived()
        self._send(200, _DONE)

    def _arrived(self) -> None:
        """"Profile saved" for the floor: the login response reached the callback server."""
        self.server.arrived_at = time.perf_counter()
        self.server.arrived.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    callback_port = 0
    arrived_at = 0.0

    def __init__(self, handler: type[_Handler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.arrived = threading.Event()


@contextlib.contextmanager
def floor_servers() -> Iterator[tuple[_Server, _Server]]:
    """(IdP-like server, callback server), serving on free 127.0.0.1 ports until exit."""
    idp, callback = _Server(_IdP), _Server(_Callback)
    idp.callback_port = callback.server_address[1]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (idp, callback)]
    for thread in threads:
        thread.start()
    try:
        yield idp, callback
    finally:
        for server in (idp, callback):
            server.shutdown()
            server.server_close()


def floor_once(context, servers: tuple[_Server, _Server], *, flow: str, username: str, password: str,
               timeout: float) -> LoginRun:
    """One floor login for ``flow`` in a new tab of ``context``, timed by the same stages as
    a warm login; its flow is reported as "floor_<flow>"."""
    idp, callback = servers
    context.clear_cookies()
    page = context.new_page()
    callback.arrived.clear()
    try:
        start = time.perf_counter()
        page.goto(f"http://127.0.0.1:{idp.server_address[1]}/oauth/authorize?flow={flow}", timeout=timeout * 1000,
                  wait_until="domcontentloaded")
        loaded = time.perf_counter()
        type_credentials(page, username, password)
        typed = time.perf_counter()
        submit(page)
        if not callback.arrived.wait(timeout):
            raise RuntimeError("the floor's callback was never requested")
        marks = [start, start, start, loaded, typed, callback.arrived_at]
        stages = {name: (b - a) * 1000 for name, a, b in zip(STAGES, marks, marks[1:], strict=False)}
        total = (callback.arrived_at - start) * 1000
        return LoginRun(f"floor_{flow}", "warm", total, total, stages)
    finally:
        page.close(run_before_unload=True)
