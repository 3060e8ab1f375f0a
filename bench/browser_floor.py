"""The browser's own share of a warm login, measured in the same run: the floor.

The same navigations and keystrokes as a login (new tab, login form, credentials typed,
Enter, POST answered by a 302 to ``localhost``, the callback's GET), against two
standard-library servers that do nothing: no IdP, no CLI, no config write. What a warm
login costs above this floor is ours; the floor itself is Chromium and the driver on
this machine.
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
         b'<body><form method="post" action="/login"><input id="username" name="username" autofocus>'
         b'<input id="password" name="password" type="password"><button id="login">Sign in</button>'
         b'</form></body></html>')
_DONE = b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Done</title></head></html>'


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
        self._send(302, location=f"http://localhost:{self.server.callback_port}/?code=floor&state=floor")


class _Callback(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        self.server.arrived.set()  # "profile saved" for the floor: the callback reached us
        self.server.arrived_at = time.perf_counter()
        self._send(200, _DONE)


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


def floor_once(context, servers: tuple[_Server, _Server], *, username: str, password: str,
               timeout: float) -> LoginRun:
    """One floor login in a new tab of ``context``, timed by the same stages as a warm login."""
    idp, callback = servers
    context.clear_cookies()
    page = context.new_page()
    callback.arrived.clear()
    try:
        start = time.perf_counter()
        page.goto(f"http://127.0.0.1:{idp.server_address[1]}/oauth/authorize", timeout=timeout * 1000,
                  wait_until="domcontentloaded")
        loaded = time.perf_counter()
        type_credentials(page, username, password)
        typed = time.perf_counter()
        submit(page)
        if not callback.arrived.wait(timeout):
            raise RuntimeError("the floor's callback was never requested")
        marks = [start, start, start, loaded, typed, callback.arrived_at]
        stages = {name: (b - a) * 1000 for name, a, b in zip(STAGES, marks, marks[1:])}
        total = (callback.arrived_at - start) * 1000
        return LoginRun("floor", "warm", total, total, stages)
    finally:
        page.close(run_before_unload=True)
