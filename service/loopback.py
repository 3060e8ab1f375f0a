"""The loopback redirect server for one CLI browser login (implicit or PKCE).

It listens on 127.0.0.1 (or ::1) only (R18), on the profile's port or a free one,
optionally over HTTPS with a per-login certificate (R29), serves the callback blueprint
at "/", and is shut down after success, error, timeout or Ctrl-C (R19). Its request log
is silenced: the callback query carries the code (R25).
"""
from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response
from werkzeug.serving import WSGIRequestHandler, make_server

from .browser import open_browser as launch_browser
from .environments import Endpoints
from .errors import GcloginError, LoginCancelledError, LoginTimeoutError, NetworkError
from .loopback_relay import callback_blueprint, render_result
from .oauth import PendingLogin, TokenResponse, start_login
from .profiles import GrantType

DEFAULT_TIMEOUT = 300.0
Outcome = TokenResponse | GcloginError


class QuietRequestHandler(WSGIRequestHandler):
    """No request log at all: the request line of a PKCE callback holds the code."""

    def log(self, type: str, message: str, *args: object) -> None:  # noqa: A002
        return None


def create_loopback_app(pending: PendingLogin, report: Callable[[Outcome], None]) -> Flask:
    """A Flask app that accepts exactly one response for ``pending`` and reports it."""
    app = Flask("service.loopback")
    lock = threading.Lock()
    taken: list[bool] = []

    def take_pending(_received_state: str | None) -> PendingLogin | None:
        with lock:  # single use (R21): the first response consumes the login
            if taken:
                return None
            taken.append(True)
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


def browser_login(*, grant: GrantType, client_id: str, redirect_uri: str, endpoints: Endpoints,
                  timeout: float = DEFAULT_TIMEOUT, open_browser: bool = True,
                  echo: Callable[[str], None] = print, scope: str | None = None,
                  env: Mapping[str, str] | None = None) -> TokenResponse:
    """Run one implicit/PKCE login through the loopback server and return the token."""
    parts = urlsplit(redirect_uri)
    secure = parts.scheme == "https"
    host = "::1" if parts.hostname == "::1" else "127.0.0.1"
    ssl_context = None
    if secure:
        from .certs import server_ssl_context
        ssl_context, _ = server_ssl_context()
    outcomes: queue.Queue[Outcome] = queue.Queue()
    sock = _listen(host, parts.port or 0)
    try:
        port = sock.getsockname()[1]
        shown = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        actual_uri = urlunsplit((parts.scheme, f"{shown}:{port}", "", "", ""))
        pending = start_login(grant, client_id=client_id, redirect_uri=actual_uri,
                              endpoints=endpoints, scope=scope)
        app = create_loopback_app(pending, outcomes.put)
        server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler,
                             ssl_context=ssl_context, fd=sock.fileno())
    finally:
        sock.close()  # werkzeug holds its own duplicate of the descriptor
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="gclogin-loopback", daemon=True)
    thread.start()
    try:
        url = pending.authorize_url()
        echo(f"Waiting for the login at {actual_uri} (timeout {timeout:g} s).")
        opened = launch_browser(url, env) if open_browser else False
        echo(("Opened the login page in your browser: " if opened
              else "Open this URL in your browser to log in: ") + url)
        if secure:
            echo("Your browser will warn about the self-signed certificate of this one-time local server.")
        try:
            outcome = outcomes.get(timeout=timeout)
        except queue.Empty:
            raise LoginTimeoutError(
                f"no login response within {timeout:g} s; run the command again (--timeout to wait longer)"
            ) from None
        except KeyboardInterrupt:
            raise LoginCancelledError("login cancelled") from None
        if isinstance(outcome, GcloginError):
            raise outcome
        return outcome
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on the loopback interface only (R18)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(16)
    except OSError as exc:
        sock.close()
        raise NetworkError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock
