"""The loopback redirect server for one CLI browser login (implicit or PKCE).

It listens on loopback addresses only (R18): 127.0.0.1 and ::1 for ``localhost``
(see bind_hosts), on the profile's port or a free one,
optionally over HTTPS with a per-login certificate (R29), serves the callback blueprint
at "/", and is shut down after success, error, timeout or Ctrl-C (R19). Its request log
is silenced: the callback query carries the code (R25).

The server is the standard library's (service.loopback.handler), loaded with this module
and so before the authorize URL is printed: its import is tens of milliseconds of CPU
that would otherwise compete with the browser loading the login page. No web framework
is involved. For HTTPS, cryptography loads and the certificate is made after the URL,
while the user is at the IdP. The sockets are bound before the URL and the servers built
just after it; a redirect arriving in between waits in the listening socket's queue.
Serving is event-driven: the outcome wakes the waiting thread at once and a wake-up
socket stops the servers at once (no shutdown polling).
"""
from __future__ import annotations

import errno
import ipaddress
import queue
import selectors
import signal
import socket
import threading
import time
from datetime import timedelta
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

from .browser import open_browser as launch_browser
from ..environments import Endpoints
from ..errors import (GcloginError, InvalidValueError, LoginCancelledError, LoginTimeoutError, NetworkError,
                     PortInUseError)
from .handler import LoopbackServer, Outcome, create_loopback_app, make_servers
from ..oauth import PendingLogin, TokenResponse, start_login
from ..preflight import check_authorize
from ..profiles import GrantType

DEFAULT_TIMEOUT = 300.0
STOP_TIMEOUT = 5.0


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


def self_signed_notice(host: str) -> str:
    """The one line an HTTPS login prints before the browser opens (R29)."""
    return (f"Note: this login's local HTTPS server uses a self-signed certificate made for it, so your "
            f"browser will warn once the login redirects back: choose Advanced → Proceed to {host}.")


def browser_login(*, grant: GrantType, client_id: str, redirect_uri: str, endpoints: Endpoints,
                  timeout: float = DEFAULT_TIMEOUT, open_browser: bool = True,
                  echo: Callable[[str], None] = print, scope: str | None = None,
                  env: Mapping[str, str] | None = None,
                  preflight: Callable[[str], None] | None = check_authorize) -> TokenResponse:
    """Run one implicit/PKCE login through the loopback server and return the token.

    ``preflight`` sends the authorize request first (service.preflight): an unreachable IdP
    or its error page ends the login in one line before the browser opens. None skips it
    (tests of the loopback server alone).

    Ctrl-C raises LoginCancelledError; in every case the listening sockets are closed
    before this returns (R19).
    """
    parts = urlsplit(redirect_uri)
    secure = parts.scheme == "https"
    outcomes: queue.Queue[Outcome] = queue.Queue()
    serving: _Serving | None = None
    try:
        # Bound (so the port is ours on every loopback address) before the URL is shown.
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

            url = pending.authorize_url()
            if preflight is not None:
                preflight(url)  # an unreachable IdP or its error page: one line, no browser
            echo(f"Waiting for the login at {actual_uri} (timeout {timeout:g} s).")
            if secure:  # said before the browser opens on the warning page
                echo(self_signed_notice(parts.hostname or "localhost"))
            opened = launch_browser(url, env, echo) if open_browser else False
            echo(("Opened the login page in your browser: " if opened
                  else "Open this URL in your browser to log in: ") + url)
            # Built now, while the browser loads the login page; for HTTPS this makes the
            # certificate. A redirect arriving meanwhile waits in the listening socket's queue.
            serving = _Serving()
            _start_serving(serving, sockets, pending, outcomes.put, refused, secure, timeout)
        finally:
            for sock in sockets:
                sock.close()  # each server holds its own duplicate of its descriptor
        outcome = _wait(outcomes, timeout)
        if isinstance(outcome, GcloginError):
            raise outcome
        return outcome
    except KeyboardInterrupt:
        raise LoginCancelledError("login cancelled (Ctrl-C); nothing was saved") from None
    finally:
        if serving is not None:
            serving.stop()


def _start_serving(serving: _Serving, sockets: list[socket.socket], pending: PendingLogin,
                   report: Callable[[Outcome], None], refused: Callable[[], None], secure: bool,
                   timeout: float) -> None:
    """Build the app and a server per socket, and start serving them."""
    ssl_context = None
    if secure:
        from .certs import server_ssl_context  # heavy: cryptography
        ssl_context, _ = server_ssl_context(timedelta(seconds=timeout))
    app = create_loopback_app(pending, report, refused)
    make_servers(sockets, app, ssl_context, into=serving.servers)
    serving.start()


class _Serving:
    """One thread per server, each waiting on its listening socket and a shared wake-up socket.

    stop() makes the wake-up socket readable, so every thread returns at once, then closes
    the servers: no poll interval between the outcome and the listening sockets closing.
    """

    def __init__(self) -> None:
        self.servers: list[LoopbackServer] = []
        self._threads: list[threading.Thread] = []
        self._wake_r, self._wake_w = socket.socketpair()

    def start(self) -> None:
        # A thread joins the list once started: a Ctrl-C inside Thread.start must not leave
        # stop() a thread it cannot join. Such a thread, if it started at all, is a daemon
        # that ends on the wake-up socket or on finding its sockets already closed.
        for server in self.servers:
            thread = threading.Thread(target=self._serve, args=(server,), name="gclogin-loopback", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, server: LoopbackServer) -> None:
        """Ctrl-C is blocked here, so the kernel delivers SIGINT to the main thread.

        A signal taken by another thread would not wake the main thread's wait (R19).
        Request threads inherit this mask.
        """
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        with selectors.DefaultSelector() as selector:
            try:
                selector.register(server.socket, selectors.EVENT_READ, server)
                selector.register(self._wake_r, selectors.EVENT_READ, None)
            except (ValueError, OSError):  # stop() closed them before this thread got going
                return
            listening = True
            while True:
                # Connections past their deadline are cut; out of descriptors, the listening
                # socket is left alone for a while instead of reported readable in a spin.
                timeout = server.reap()
                pause = server.paused_for()
                if pause and listening:
                    selector.unregister(server.socket)
                    listening = False
                elif not pause and not listening:
                    selector.register(server.socket, selectors.EVENT_READ, server)
                    listening = True
                if pause:
                    timeout = pause if timeout is None else min(timeout, pause)
                for key, _ in selector.select(timeout):
                    if key.data is None:
                        return
                    server.handle_request()  # accept one connection (timeout 0), handled in a thread

    def stop(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        for thread in self._threads:
            thread.join(timeout=STOP_TIMEOUT)
        for server in self.servers:
            server.server_close()
        self._wake_r.close()
        self._wake_w.close()


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
                raise _port_in_use(exc.host, port) from None
    raise NetworkError(f"no port was free on all of {', '.join(hosts)} after {attempts} attempts")


def _port_in_use(host: str, port: int) -> PortInUseError:
    return PortInUseError(f"cannot listen on {host} port {port}: it is in use by another program, which "
                          "could receive this login; free it or choose another port", port)


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
        if exc.errno == errno.EADDRINUSE:
            if optional:
                raise _PortTaken(host) from None
            raise _port_in_use(host, port) from None
        raise NetworkError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock
