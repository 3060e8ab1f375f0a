"""A recording TCP relay on 127.0.0.1: everything in transit, to learn the secrets issued.

The security test points the CLI (and the test's browser) at the relay instead of the
IdP, then pulls every token, code, verifier and secret out of the recorded bytes and
greps every log and output stream for them.
"""
from __future__ import annotations

import base64
import re
import socket
import threading
from urllib.parse import unquote, unquote_plus

_PATTERNS = [
    re.compile(rb'"access_token"\s*:\s*"([^"]+)"'),
    re.compile(rb"[#&?]access_token=([^&\s\"'<>]+)"),
    re.compile(rb"(?:^|[?&\s])code=([^&\s\"'<>]+)", re.M),
    re.compile(rb"code_verifier=([^&\s\"'<>]+)"),
    re.compile(rb"client_secret=([^&\s\"'<>]+)"),
    re.compile(rb"[Bb]earer ([A-Za-z0-9._~+/=-]+)"),
]
_BASIC = re.compile(rb"Authorization: Basic ([A-Za-z0-9+/=]+)")


class Tap:
    """Relay 127.0.0.1:<port> to `target` (host, port), recording both directions."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.recorded = bytearray()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Tap:
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=30)
            client.settimeout(30)
            for a, b in ((client, upstream), (upstream, client)):
                t = threading.Thread(target=self._pump, args=(a, b), daemon=True)
                t.start()
                self._threads.append(t)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                with self._lock:
                    self.recorded += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def secrets(self) -> set[str]:
        """Every token, code, verifier and client secret that crossed the relay."""
        with self._lock:
            blob = bytes(self.recorded)
        found: set[str] = set()
        for pattern in _PATTERNS:
            for m in pattern.finditer(blob):
                found.add(unquote_plus(m.group(1).decode("latin-1")))
        for m in _BASIC.finditer(blob):
            decoded = base64.b64decode(m.group(1)).decode("utf-8", "replace")
            client_id, _, secret = decoded.partition(":")
            found.add(unquote(secret))
        return {s for s in found if len(s) >= 8}
