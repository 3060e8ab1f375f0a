"""The loopback server's request handling, on the standard library's HTTP server.

A login's loopback server answers two or three requests from one browser, so it needs
no web framework: importing Flask took about a quarter of a second, which a fast
browser spent waiting for the redirect to be answered. The callback logic and pages
are service.callback's, shared with the web service's Flask blueprint.
"""
from __future__ import annotations

import errno
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl, unquote, urlsplit

from ..callback import Completion, complete_code, complete_fragment, is_response, page_headers, relay_page, \
    result_page
from ..errors import GcloginError
from ..oauth import PendingLogin, TokenResponse, state_matches

#: what a login ends with: the token, or the error that stopped it
Outcome = TokenResponse | GcloginError
#: how long a connection may take to complete its TLS handshake, or to send its request
HANDSHAKE_TIMEOUT = 5.0
REQUEST_TIMEOUT = 30.0
#: connections served at once; one more closes the oldest (a browser needs two or three)
MAX_CONNECTIONS = 32
#: from accept to the answer sent, whatever the connection trickles in the meantime
CONNECTION_DEADLINE = 15.0
#: accept() failing for want of descriptors (EMFILE...): first pause, doubled up to the last
ACCEPT_BACKOFF = (0.05, 1.0)
#: the relay POST carries one fragment (a token, its type, lifetime, scope and state)
MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Page:
    """One answer: ``outcome`` (if any) is reported once the page has been sent."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    outcome: Outcome | None = None


class LoopbackApp:
    """Accepts exactly one response for ``pending`` and reports it.

    Only a response carrying this login's state consumes it (R21). Anything else (no
    state, a wrong or stale one) gets an error page and the login keeps waiting, so a
    stray or hostile request from another local program or web page cannot end it
    (R20); ``on_refused`` is told, e.g. to let the user know.
    """

    def __init__(self, pending: PendingLogin, report: Callable[[Outcome], None],
                 on_refused: Callable[[], None] | None = None) -> None:
        self.pending = pending
        self.report = report
        self._on_refused = on_refused
        self._lock = threading.Lock()
        self._taken = False

    def _take(self, received_state: str | None) -> PendingLogin | None:
        with self._lock:
            if self._taken or not state_matches(received_state, self.pending.state):
                if self._on_refused is not None and not self._taken:
                    self._on_refused()
                return None
            self._taken = True  # single use (R21)
            return self.pending

    def get(self, target: str) -> Page:
        """GET of a request target as sent (``/?code=..``): the response, or the relay page."""
        parts = urlsplit(target)
        if unquote(parts.path) != "/":
            return _page(404, False, "Not found")
        raw_query = parts.query.encode("latin-1")  # http.server decoded the bytes as latin-1
        if is_response(parts.query):
            return self._answer(complete_code(raw_query, self._take))
        nonce = secrets.token_urlsafe(18)
        return Page(200, relay_page(nonce, "/", fetch=True), page_headers(nonce, connect=True))

    def post(self, target: str, content_type: str | None, body: bytes) -> Page:
        """The relay page's POST of the implicit fragment."""
        if unquote(urlsplit(target).path) != "/":
            return _page(404, False, "Not found")
        fragment = ""
        if (content_type or "").split(";")[0].strip().lower() == FORM:
            fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            fragment = next((value for name, value in fields if name == "fragment"), "")
        return self._answer(complete_fragment(fragment, self._take))

    @staticmethod
    def _answer(done: Completion) -> Page:
        if isinstance(done.outcome, GcloginError):
            # A refused response consumed nothing: the login goes on waiting, unreported.
            return _page(400, False, "Login failed", str(done.outcome),
                         None if done.pending is None else done.outcome)
        return _page(200, True, "Login complete", outcome=done.outcome)


def _page(status: int, ok: bool, title: str, detail: str = "", outcome: Outcome | None = None) -> Page:
    """A result page whose inline stylesheet carries the nonce of its own CSP (R5)."""
    nonce = secrets.token_urlsafe(18)
    return Page(status, result_page(ok, title, detail, nonce=nonce), page_headers(nonce), outcome)


def create_loopback_app(pending: PendingLogin, report: Callable[[Outcome], None],
                        on_refused: Callable[[], None] | None = None) -> LoopbackApp:
    return LoopbackApp(pending, report, on_refused)


class QuietRequestHandler(BaseHTTPRequestHandler):
    """Serves a LoopbackApp with no request log at all: a PKCE callback's request line
    holds the code (R25).

    Over HTTPS it also does the TLS handshake, in the connection's own thread and within
    HANDSHAKE_TIMEOUT (see make_servers). One request per connection.
    """

    server: LoopbackServer
    protocol_version = "HTTP/1.1"  # every answer says Connection: close
    timeout = REQUEST_TIMEOUT

    def version_string(self) -> str:
        return "gclogin"

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            self.request.do_handshake()  # a failure ends this connection only (handle_error)
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._send(self.server.app.get(self.path))

    def do_POST(self) -> None:  # noqa: N802
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._send(_page(413 if length > MAX_BODY else 400,
                             False, "Login failed", "The request body is missing or too large."))
            return
        body = self.rfile.read(length)
        self._send(self.server.app.post(self.path, self.headers.get("Content-Type"), body))

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Every other method (PUT, OPTIONS, ...) is 405, not http.server's 501."""
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        page = _page(405, False, "Method not allowed")
        self._send(Page(page.status, page.body, {**page.headers, "Allow": "GET, POST"}))

    def _send(self, page: Page) -> None:
        data = page.body.encode("utf-8")
        self.send_response(page.status)
        for name, value in page.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True
        if page.outcome is not None:
            # Reported only once the page has been sent, so shutdown doesn't cut it off.
            self.server.app.report(page.outcome)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own error pages may quote the request line, which can hold a code.
        super().send_error(code)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None


_OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class LoopbackServer(ThreadingMixIn, HTTPServer):
    """A threaded HTTP server on an already-listening socket (a duplicate of the caller's).

    A local program must not starve the login (one thread per connection, and only
    per-read timeouts, let 200 trickling connections hold it, and at the descriptor limit
    a failing accept() made the selector spin): at most MAX_CONNECTIONS are served at
    once, and the one past the cap closes the *oldest* (closing the newcomer would let
    idle connections lock the browser out); each has CONNECTION_DEADLINE from accept
    (``reap``); and accept() out of descriptors closes the oldest and pauses accepting
    (``paused_for``) instead of retrying at once.
    """

    daemon_threads = True

    def __init__(self, sock: socket.socket, app: LoopbackApp) -> None:
        super().__init__(sock.getsockname()[:2], QuietRequestHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock.dup()
        self.app = app
        self._connections: dict[socket.socket, float] = {}  # connection -> its deadline
        self._conn_lock = threading.Lock()
        self._backoff = 0.0
        self._paused_until = 0.0

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self._conn_lock:
            self._connections[request] = time.monotonic() + CONNECTION_DEADLINE
            while len(self._connections) > MAX_CONNECTIONS:
                _cut(self._evict_oldest())
        self._backoff = 0.0
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._conn_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def _evict_oldest(self) -> socket.socket:
        oldest = min(self._connections, key=self._connections.__getitem__)
        del self._connections[oldest]
        return oldest

    def reap(self) -> float | None:
        """Cut connections past their deadline; seconds until the next one is due (None: none)."""
        now = time.monotonic()
        with self._conn_lock:
            overdue = [c for c, due in self._connections.items() if due <= now]
            for conn in overdue:
                del self._connections[conn]
            upcoming = min(self._connections.values(), default=None)
        for conn in overdue:
            _cut(conn)
        return None if upcoming is None else max(0.0, upcoming - now)

    def paused_for(self) -> float:
        """Seconds accepting stays paused after running out of descriptors (0: accept now)."""
        return max(0.0, self._paused_until - time.monotonic())

    def out_of_descriptors(self) -> None:
        """accept() failed with EMFILE or the like: free one, and back off (doubling)."""
        low, high = ACCEPT_BACKOFF
        self._backoff = min(high, self._backoff * 2 or low)
        self._paused_until = time.monotonic() + self._backoff
        with self._conn_lock:
            victim = self._evict_oldest() if self._connections else None
        if victim is not None:
            _cut(victim)

    def connection_count(self) -> int:
        with self._conn_lock:
            return len(self._connections)

    def server_bind(self) -> None:  # the socket is bound already
        return None

    def handle_error(self, request: object, client_address: object) -> None:
        """A broken connection to the one-login server is not worth a traceback on stderr."""
        return None


def make_servers(sockets: list[socket.socket], app: LoopbackApp, ssl_context: ssl.SSLContext | None,
                 into: list[LoopbackServer]) -> None:
    """A threaded server on each listening socket, appended to ``into`` as soon as it exists
    so the caller can always close it. Not started.

    Each listening socket is made non-blocking and the server's timeout is 0: the caller
    calls handle_request() only when its selector says a connection is waiting, and a
    connection gone before accept() is then skipped instead of blocking the loop.

    TLS: wrapping the listening socket would run the handshake inside ``accept()``, with no
    timeout, in the one thread serving that address: a local program that connects and
    never sends a ClientHello would block every later connection, the browser's callback
    included. So the listening socket stays plain, accepted connections are wrapped
    without a handshake (_tls_accept), and QuietRequestHandler does the handshake in the
    connection's thread within HANDSHAKE_TIMEOUT.
    """
    for sock in sockets:
        server = LoopbackServer(sock, app)
        into.append(server)
        server.timeout = 0
        server.socket.setblocking(False)
        if ssl_context is not None:
            server.get_request = _tls_accept(server, ssl_context)  # type: ignore[method-assign]
        else:
            server.get_request = _plain_accept(server)  # type: ignore[method-assign]


def _cut(conn: socket.socket) -> None:
    """End a connection from another thread: its handler's blocked read returns at once.

    socket.socket's shutdown, not SSLSocket's (which would unwrap TLS under the reader).
    """
    try:
        socket.socket.shutdown(conn, socket.SHUT_RDWR)
    except OSError:
        pass


def _accept(server: LoopbackServer, listener: socket.socket) -> tuple[socket.socket, object]:
    try:
        return listener.accept()  # non-blocking listener: BlockingIOError is skipped
    except OSError as exc:
        if exc.errno in _OUT_OF_DESCRIPTORS:
            server.out_of_descriptors()
        raise


def _plain_accept(server: LoopbackServer) -> Callable[[], tuple[socket.socket, object]]:
    def get_request() -> tuple[socket.socket, object]:
        conn, address = _accept(server, server.socket)
        conn.setblocking(True)
        return conn, address

    return get_request


def _tls_accept(server: LoopbackServer, context: ssl.SSLContext) -> Callable[[], tuple[ssl.SSLSocket, object]]:
    """A get_request for socketserver: accept, and wrap for TLS without handshaking yet."""

    def get_request() -> tuple[ssl.SSLSocket, object]:
        conn, address = _accept(server, server.socket)
        try:
            conn.setblocking(True)
            return context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False), address
        except BaseException:
            conn.close()
            raise

    return get_request
