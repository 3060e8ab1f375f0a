"""The loopback server's Flask app and werkzeug servers: the heavy half of service.loopback.

Imported only once the authorize URL has been printed (Flask alone takes about a quarter
of a second to import), so the user's browser starts while this loads; the sockets are
already listening, so an early redirect just waits in the kernel's queue.
"""
from __future__ import annotations

import hmac
import ssl
import threading
from collections.abc import Callable
from socket import socket

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .errors import GcloginError
from .loopback_relay import callback_blueprint, render_result
from .oauth import PendingLogin, TokenResponse

Outcome = TokenResponse | GcloginError
#: how long a connection to the HTTPS loopback server may take to complete its TLS handshake
HANDSHAKE_TIMEOUT = 5.0


class QuietRequestHandler(WSGIRequestHandler):
    """No request log at all: the request line of a PKCE callback holds the code.

    Over HTTPS it also does the TLS handshake, in the connection's own thread and within
    HANDSHAKE_TIMEOUT (see make_servers), then goes back to blocking reads.
    """

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            self.request.do_handshake()  # a failure ends this connection only (handle_error)
            self.request.settimeout(None)
        super().setup()

    def log(self, type: str, message: str, *args: object) -> None:  # noqa: A002
        return None


def create_loopback_app(pending: PendingLogin, report: Callable[[Outcome], None],
                        on_refused: Callable[[], None] | None = None) -> Flask:
    """A Flask app that accepts exactly one response for ``pending`` and reports it.

    Only a response carrying this login's state consumes it (R21). Anything else (no
    state, a wrong or stale one) gets an error page and the login keeps waiting, so a
    stray or hostile request from another local program or web page cannot end it
    (R20); ``on_refused`` is told, e.g. to let the user know.
    """
    app = Flask("service.loopback")
    lock = threading.Lock()
    taken: list[bool] = []

    def take_pending(received_state: str | None) -> PendingLogin | None:
        with lock:
            if taken or not received_state or not hmac.compare_digest(
                    received_state.encode("utf-8", "surrogatepass"), pending.state.encode("utf-8")):
                if on_refused is not None and not taken:
                    on_refused()
                return None
            taken.append(True)  # single use (R21)
            return pending

    def finished(response: Response, outcome: Outcome) -> Response:
        # Report only once the page has been sent, so shutdown doesn't cut it off.
        response.call_on_close(lambda: report(outcome))
        return response

    def on_success(_pending: PendingLogin, token: TokenResponse) -> Response:
        return finished(render_result(True, "Login complete"), token)

    def on_error(used: PendingLogin | None, error: GcloginError) -> Response:
        response = render_result(False, "Login failed", str(error), 400)
        return finished(response, error) if used is not None else response

    app.register_blueprint(callback_blueprint(take_pending=take_pending, on_success=on_success,
                                              on_error=on_error, path="/"))
    return app


def warm_up(app: Flask) -> None:
    """Do the first-request work now (compile both templates, build the URL matcher, load the
    form parser), so the browser's redirect is answered at full speed.

    Only the relay page is requested for real: it reads no state and consumes nothing. The
    result page and the form body are exercised without dispatching, so no login is touched.
    """
    client = app.test_client()
    client.get("/").close()
    with app.test_request_context("/", method="POST", data={"fragment": ""}):
        request.form.get("fragment")
        render_result(True, "warm-up")


def make_servers(sockets: list[socket], app: Flask, ssl_context: ssl.SSLContext | None,
                 into: list[BaseWSGIServer]) -> None:
    """A threaded werkzeug server on each listening socket (werkzeug keeps its own duplicate),
    appended to ``into`` as soon as it exists so the caller can always close it. Not started.

    Each listening socket is made non-blocking and the server's timeout is 0: the caller
    calls handle_request() only when its selector says a connection is waiting, and a
    connection gone before accept() is then skipped instead of blocking the loop.

    TLS: werkzeug would wrap the listening socket, and then ``accept()`` itself runs the
    handshake, with no timeout, in the one thread serving that address: a local program
    that connects and never sends a ClientHello would block every later connection,
    the browser's callback included. So the listening socket stays plain, accepted
    connections are wrapped without a handshake (_tls_accept), and QuietRequestHandler
    does the handshake in the connection's thread within HANDSHAKE_TIMEOUT.
    """
    for sock in sockets:
        host, port = sock.getsockname()[:2]
        server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler,
                             fd=sock.fileno())
        into.append(server)
        server.handle_error = _ignore_error  # type: ignore[method-assign]
        server.timeout = 0
        server.socket.setblocking(False)
        if ssl_context is not None:
            server.ssl_context = ssl_context  # werkzeug: wsgi.url_scheme https, TLS errors are quiet
            server.get_request = _tls_accept(server.socket, ssl_context)  # type: ignore[method-assign]


def _tls_accept(listener: socket, context: ssl.SSLContext) -> Callable[[], tuple[ssl.SSLSocket, object]]:
    """A get_request for socketserver: accept, and wrap for TLS without handshaking yet."""

    def get_request() -> tuple[ssl.SSLSocket, object]:
        conn, address = listener.accept()  # non-blocking listener: BlockingIOError is skipped
        try:
            conn.setblocking(True)
            return context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False), address
        except BaseException:
            conn.close()
            raise

    return get_request


def _ignore_error(_request: object, _client_address: object) -> None:
    """A broken connection to the one-login server is not worth a traceback on stderr."""
    return None
