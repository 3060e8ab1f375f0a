"""The loopback redirect server for one CLI browser login (implicit or PKCE).

It listens on loopback addresses only (R18): 127.0.0.1 and ::1 for ``localhost``
(see bind_hosts), on the profile's port or a free one,
optionally over HTTPS with a per-login certificate (R29), serves the callback blueprint
at "/", and is shut down after success, error, timeout or Ctrl-C (R19). Its request log
is silenced: the callback query carries the code (R25).
"""
from __future__ import annotations

import errno
import hmac
import ipaddress
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .browser import open_browser as launch_browser
from .environments import Endpoints
from .errors import GcloginError, InvalidValueError, LoginCancelledError, LoginTimeoutError, NetworkError
from .loopback_relay import callback_blueprint, render_result
from .oauth import PendingLogin, TokenResponse, start_login
from .profiles import GrantType

DEFAULT_TIMEOUT = 300.0
Outcome = TokenResponse | GcloginError


class QuietRequestHandler(WSGIRequestHandler):
    """No request log at all: the request line of a PKCE callback holds the code."""

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


def bind_hosts(redirect_host: str | None) -> tuple[str, ...]:
    """The loopback addresses to listen on for a redirect URI's host (pure; R16, R18).

    A loopback IP literal is listened on as is. ``localhost`` (what Genesys registers)
    gets both 127.0.0.1 and ::1: browsers resolve it to either, and if we left ::1 free
    another local program could listen there and receive the redirect, code or token
    included. Never a wildcard address.
    """
    host = ("localhost" if redirect_host is None else redirect_host).strip("[]").lower()
    if host == "localhost":
        return ("127.0.0.1", "::1")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise InvalidValueError("redirect_uri", f"{host!r} is not localhost or a loopback IP address (R18)")
    return (str(address),)


def browser_login(*, grant: GrantType, client_id: str, redirect_uri: str, endpoints: Endpoints,
                  timeout: float = DEFAULT_TIMEOUT, open_browser: bool = True,
                  echo: Callable[[str], None] = print, scope: str | None = None,
                  env: Mapping[str, str] | None = None) -> TokenResponse:
    """Run one implicit/PKCE login through the loopback server and return the token.

    Ctrl-C raises LoginCancelledError; in every case the listening sockets are closed
    before this returns (R19).
    """
    parts = urlsplit(redirect_uri)
    secure = parts.scheme == "https"
    ssl_context = None
    if secure:
        from .certs import server_ssl_context
        ssl_context, _ = server_ssl_context()
    outcomes: queue.Queue[Outcome] = queue.Queue()
    servers: list[BaseWSGIServer] = []
    threads: list[threading.Thread] = []
    try:
        sockets = listen_loopback(bind_hosts(parts.hostname), parts.port or 0)
        try:
            port = sockets[0].getsockname()[1]
            shown = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
            actual_uri = urlunsplit((parts.scheme, f"{shown}:{port}", "", "", ""))
            pending = start_login(grant, client_id=client_id, redirect_uri=actual_uri,
                                  endpoints=endpoints, scope=scope)
            refused_once: list[bool] = []

            def refused() -> None:
                if not refused_once:
                    refused_once.append(True)
                    echo("Refused a response without this login's state (stale tab or possible CSRF); "
                         "still waiting.")

            app = create_loopback_app(pending, outcomes.put, refused)
            for sock in sockets:
                server = make_server(sock.getsockname()[0], port, app, threaded=True,
                                     request_handler=QuietRequestHandler, ssl_context=ssl_context,
                                     fd=sock.fileno())
                server.handle_error = _ignore_error  # type: ignore[method-assign]
                servers.append(server)
        finally:
            for sock in sockets:
                sock.close()  # werkzeug holds its own duplicate of each descriptor
        for server in servers:
            thread = threading.Thread(target=_serve, args=(server,), name="gclogin-loopback", daemon=True)
            thread.start()
            threads.append(thread)
        url = pending.authorize_url()
        echo(f"Waiting for the login at {actual_uri} (timeout {timeout:g} s).")
        opened = launch_browser(url, env) if open_browser else False
        echo(("Opened the login page in your browser: " if opened
              else "Open this URL in your browser to log in: ") + url)
        if secure:
            echo("Your browser will warn about the self-signed certificate of this one-time local server.")
        outcome = _wait(outcomes, timeout)
        if isinstance(outcome, GcloginError):
            raise outcome
        return outcome
    except KeyboardInterrupt:
        raise LoginCancelledError("login cancelled (Ctrl-C); nothing was saved") from None
    finally:
        for server, thread in zip(servers, threads):
            server.shutdown()
        for server in servers:
            server.server_close()
        for thread in threads:
            thread.join(timeout=5)


def _serve(server: BaseWSGIServer) -> None:
    """serve_forever with Ctrl-C blocked, so the kernel delivers SIGINT to the main thread.

    A signal taken by another thread would not wake the main thread's wait (R19).
    Request threads inherit this mask.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    server.serve_forever(poll_interval=0.2)


def _wait(outcomes: queue.Queue[Outcome], timeout: float) -> Outcome:
    """The login's outcome, waiting in short slices so a pending Ctrl-C is acted on promptly."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LoginTimeoutError(
                f"no login response within {timeout:g} s; run the command again (--timeout to wait longer)")
        try:
            return outcomes.get(timeout=min(remaining, 0.5))
        except queue.Empty:
            continue


def listen_loopback(hosts: tuple[str, ...], port: int, attempts: int = 20) -> list[socket.socket]:
    """Listening sockets on every host, all on one port (``port`` or, for 0, a free one).

    The first host is required. The others are skipped if the machine lacks that
    address family (no IPv6), but a port taken there by someone else is an error (or,
    for port 0, a reason to try another port): see bind_hosts.
    """
    for _ in range(attempts if port == 0 else 1):
        first = _listen(hosts[0], port)
        sockets = [first]
        chosen = first.getsockname()[1]
        try:
            for host in hosts[1:]:
                try:
                    sockets.append(_listen(host, chosen, optional=True))
                except _Unavailable:
                    continue
            return sockets
        except _PortTaken as exc:
            for sock in sockets:
                sock.close()
            if port != 0:
                raise NetworkError(f"cannot listen on {exc.host} port {port}: it is in use by another "
                                   "program, which could receive this login; free it or choose another "
                                   "port") from None
    raise NetworkError(f"no port was free on all of {', '.join(hosts)} after {attempts} attempts")


class _Unavailable(Exception):
    """This machine has no such address (e.g. IPv6 disabled)."""


class _PortTaken(Exception):
    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


_UNAVAILABLE_ERRNOS = frozenset({errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT})


def _listen(host: str, port: int, optional: bool = False) -> socket.socket:
    """A listening socket on one loopback address (R18)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        if optional and exc.errno in _UNAVAILABLE_ERRNOS:
            raise _Unavailable(host) from None
        raise NetworkError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(16)
    except OSError as exc:
        sock.close()
        if optional and exc.errno in _UNAVAILABLE_ERRNOS:
            raise _Unavailable(host) from None
        if optional and exc.errno == errno.EADDRINUSE:
            raise _PortTaken(host) from None
        raise NetworkError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock


def _ignore_error(_request: object, _client_address: object) -> None:
    """A broken connection to the one-login server is not worth a traceback on stderr."""
    return None
