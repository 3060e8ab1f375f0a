"""Where the CLI's loopback server listens (R16, R18) and that it closes again (R19).

``localhost`` (what Genesys registers) is served on both 127.0.0.1 and ::1 on one port,
so whichever address the browser picks reaches us and no other program can take the
other one; nothing listens on a wildcard or on a non-loopback interface.
"""
from __future__ import annotations

import ipaddress
import queue
import socket
import threading
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from devtools.servers import REPO, listening_addresses
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from service.environments import resolve
from service.errors import InvalidValueError, LoginCancelledError, NetworkError
from service.loopback import bind_hosts, browser_login, listen_loopback
from service.profiles import GrantType

ENDPOINTS = resolve("http://127.0.0.1:9")  # implicit logins never contact it
HAVE_IPV6 = socket.has_ipv6 and Path("/proc/net/if_inet6").exists() and "00000000000000000000000000000001" in \
    Path("/proc/net/if_inet6").read_text()


def non_loopback_addresses() -> list[str]:
    """This machine's own non-loopback addresses (IPv4 via the routing table, IPv6 from /proc)."""
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # connect() on UDP sends nothing
        try:
            probe.connect(("192.0.2.1", 9))
            out.append(probe.getsockname()[0])
        except OSError:
            pass
    if Path("/proc/net/if_inet6").exists():
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            address = ipaddress.IPv6Address(int(line.split()[0], 16))
            if not address.is_loopback and not address.is_link_local:
                out.append(str(address))
    return [a for a in out if not ipaddress.ip_address(a).is_loopback]


class Login:
    """browser_login in a thread; the test plays the browser."""

    def __init__(self, redirect_uri: str) -> None:
        self.urls: queue.Queue[str] = queue.Queue()
        self.done: queue.Queue[object] = queue.Queue()

        def echo(line: str) -> None:
            if "/oauth/authorize?" in line:
                self.urls.put(line[line.index("http", line.index(": ")):])

        def run() -> None:
            try:
                self.done.put(browser_login(grant=GrantType.IMPLICIT, client_id="c", preflight=None, redirect_uri=redirect_uri,
                                            endpoints=ENDPOINTS, timeout=30, open_browser=False, echo=echo))
            except BaseException as exc:  # handed to the test
                self.done.put(exc)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        query = parse_qs(urlsplit(self.urls.get(timeout=15)).query)
        self.redirect_uri, self.state = query["redirect_uri"][0], query["state"][0]
        self.port = urlsplit(self.redirect_uri).port

    def relay(self, base: str) -> requests.Response:
        fragment = urlencode({"access_token": "tok", "token_type": "bearer", "state": self.state})
        return requests.post(base + "/", data={"fragment": fragment}, timeout=15)

    def result(self) -> object:
        outcome = self.done.get(timeout=45)
        self.thread.join(timeout=15)
        return outcome


def refused(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        try:
            s.connect((host, port))
        except (ConnectionRefusedError, OSError):
            return True
    return False


# --- pure --------------------------------------------------------------------------------

@pytest.mark.parametrize("host, expected", [
    ("localhost", ("127.0.0.1", "::1")), ("LOCALHOST", ("127.0.0.1", "::1")), (None, ("127.0.0.1", "::1")),
    ("127.0.0.1", ("127.0.0.1",)), ("127.0.0.2", ("127.0.0.2",)), ("::1", ("::1",)), ("[::1]", ("::1",)),
])
def test_bind_hosts(host, expected):
    assert bind_hosts(host) == expected


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com", "", "fd00::2"])
def test_bind_hosts_refuses_anything_but_loopback(host):
    with pytest.raises(InvalidValueError, match="redirect_uri"):
        bind_hosts(host)


@settings(max_examples=100)
@given(st.one_of(st.ip_addresses(), st.text(max_size=20)))
def test_bind_hosts_never_yields_a_non_loopback_address(host):
    try:
        hosts = bind_hosts(str(host))
    except InvalidValueError:
        return
    assert hosts and all(ipaddress.ip_address(h).is_loopback for h in hosts)


# --- sockets ---------------------------------------------------------------------------------

@pytest.mark.skipif(not HAVE_IPV6, reason="this machine has no ::1")
def test_localhost_listens_on_both_loopback_addresses_and_nothing_else():
    login = Login("http://localhost:0")
    assert listening_addresses(login.port) == {"127.0.0.1", "::1"}  # never 0.0.0.0 or ::
    others = non_loopback_addresses()
    for address in others:
        assert refused(address, login.port), address
    # the browser may pick either address for localhost: both reach the same login
    assert requests.get(f"http://127.0.0.1:{login.port}/", timeout=15).status_code == 200
    page = login.relay(f"http://[::1]:{login.port}")
    assert page.status_code == 200 and "Login complete" in page.text
    assert login.result().access_token == "tok"
    assert listening_addresses(login.port) == set()
    assert refused("127.0.0.1", login.port) and refused("::1", login.port)  # R19


def test_ip_literal_listens_on_that_address_only():
    login = Login("http://127.0.0.1:0")
    assert listening_addresses(login.port) == {"127.0.0.1"}
    assert login.relay(f"http://127.0.0.1:{login.port}").status_code == 200
    assert login.result().access_token == "tok"
    assert listening_addresses(login.port) == set()


@pytest.mark.skipif(not HAVE_IPV6, reason="this machine has no ::1")
def test_fixed_port_taken_on_ipv6_is_a_clear_error_not_a_silent_half_bind():
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as squatter:
        squatter.bind(("::1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        if not refused("127.0.0.1", port):
            pytest.skip("the IPv4 port is taken too")
        with pytest.raises(NetworkError, match=rf"::1 port {port}: it is in use by another program"):
            listen_loopback(("127.0.0.1", "::1"), port)
        assert listening_addresses(port) == {"::1"}  # our 127.0.0.1 socket was closed again


@pytest.mark.skipif(not HAVE_IPV6, reason="this machine has no ::1")
def test_port_zero_finds_a_port_free_on_both(monkeypatch):
    sockets = listen_loopback(("127.0.0.1", "::1"), 0)
    try:
        assert [s.getsockname()[0] for s in sockets] == ["127.0.0.1", "::1"]
        assert len({s.getsockname()[1] for s in sockets}) == 1
    finally:
        for s in sockets:
            s.close()


def test_interrupt_while_waiting_closes_the_port(monkeypatch):
    """KeyboardInterrupt (Ctrl-C) in the wait becomes LoginCancelledError and the server closes (R19)."""
    import service.loopback.server as loopback

    ports: list[int] = []

    class Interrupting(queue.Queue):
        def get(self, block=True, timeout=None):
            raise KeyboardInterrupt

    def echo(line: str) -> None:
        if "Waiting for the login at" in line:
            ports.append(int(line.split("localhost:")[1].split()[0]))

    monkeypatch.setattr(loopback.queue, "Queue", Interrupting)
    with pytest.raises(LoginCancelledError, match="cancelled"):
        browser_login(grant=GrantType.PKCE, client_id="c", preflight=None, redirect_uri="http://localhost:0",
                      endpoints=ENDPOINTS, timeout=30, open_browser=False, echo=echo)
    assert ports and listening_addresses(ports[0]) == set()


_CTRL_C_AS_THREADS_START = """
import os, signal, threading
from service.environments import resolve
from service.errors import LoginCancelledError
from service.loopback import browser_login
from service.profiles import GrantType
from devtools.servers import REPO, listening_addresses

real_start = threading.Thread.start
def ctrl_c_then_start(thread):
    if thread.name == "gclogin-loopback":
        os.kill(os.getpid(), signal.SIGINT)
    real_start(thread)
threading.Thread.start = ctrl_c_then_start
ports = []
def echo(line):
    if "redirect_uri=" in line:
        ports.append(int(line.split("redirect_uri=http%3A%2F%2Flocalhost%3A")[1].split("&")[0]))
try:
    browser_login(grant=GrantType.IMPLICIT, client_id="c", preflight=None, redirect_uri="http://localhost:0",
                  endpoints=resolve("http://127.0.0.1:9"), timeout=30, open_browser=False, echo=echo)
except LoginCancelledError as exc:
    print("cancelled:", exc)
print("loopback threads:", [t.name for t in threading.enumerate() if t.name == "gclogin-loopback"])
print("listening:", sorted(listening_addresses(ports[0])))
"""


@pytest.mark.slow
def test_ctrl_c_while_the_servers_start_cancels_cleanly():
    """A Ctrl-C landing as a server thread starts still ends the login as a cancel, with no
    thread left running and the port closed (R19); it once left a thread stop() could not
    join, and the CLI reported an internal error.

    In a process of its own: as in the CLI, its main thread is the only one there to take
    the signal (pytest's process has threads of other tests' servers)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _CTRL_C_AS_THREADS_START], capture_output=True,
                         text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["cancelled: login cancelled (Ctrl-C); nothing was saved",
                                       "loopback threads: []", "listening: []"], out.stderr
    assert "Traceback" not in out.stderr and "Exception in thread" not in out.stderr


@pytest.mark.slow
def test_the_loopback_server_needs_no_web_framework():
    """The login's module brings the standard library's server with it, so nothing is left
    to import once the URL is out (the import would compete with the browser for the CPU),
    and never Flask, werkzeug or cryptography (HTTPS loads that after the URL)."""
    import subprocess
    import sys

    heavy = "print(sorted(m for m in ('flask', 'werkzeug', 'jinja2', 'cryptography') if m in sys.modules))\n"
    code = ("import sys, service.loopback.server as lb\n" + heavy +
            "print(lb.create_loopback_app.__module__, 'http.server' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[]", "service.loopback.handler True"]


def test_a_redirect_arriving_before_the_server_is_ready_is_served():
    """The URL is shown (and the browser started) before the server is built: a connection made right
    then waits in the listening socket's queue and is answered once serving starts; the login
    then completes and the port closes (R19)."""
    early: list[socket.socket] = []
    urls: queue.Queue[str] = queue.Queue()
    done: queue.Queue[object] = queue.Queue()

    def echo(line: str) -> None:
        if "/oauth/authorize?" in line:
            url = line[line.index("http", line.index(": ")):]
            port = int(urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port)
            sock = socket.create_connection(("127.0.0.1", port), timeout=15)  # server not built yet
            sock.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            early.append(sock)
            urls.put(url)

    def run() -> None:
        try:
            done.put(browser_login(grant=GrantType.IMPLICIT, client_id="c", preflight=None, redirect_uri="http://localhost:0",
                                   endpoints=ENDPOINTS, timeout=20, open_browser=False, echo=echo))
        except BaseException as exc:  # handed to the test thread
            done.put(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    url = urls.get(timeout=15)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    with early[0] as sock:
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b"history.replaceState" in answer
    fragment = urlencode({"access_token": "early-token", "token_type": "bearer", "state": query["state"]})
    page = requests.post(query["redirect_uri"] + "/", data={"fragment": fragment}, timeout=15)
    assert page.status_code == 200 and "Login complete" in page.text
    token = done.get(timeout=15)
    thread.join(timeout=15)
    assert getattr(token, "access_token", token) == "early-token"
    assert listening_addresses(urlsplit(query["redirect_uri"]).port) == set()


# --- HTTPS: the notice, and a handshake that cannot stall the server (R29) ------------------

def test_a_silent_connection_does_not_stop_an_https_callback(monkeypatch):
    """A local program that connects and never sends a ClientHello must not block the login.

    With the handshake inside accept() (werkzeug's default), the thread serving 127.0.0.1
    would wait on this connection forever and the browser's callback would never be answered.
    The handshake limit is shortened so the test need not wait the real 5 s for its EOF.
    """
    monkeypatch.setattr("service.loopback.handler.HANDSHAKE_TIMEOUT", 0.3)
    login = Login("https://127.0.0.1:0")
    silent = socket.create_connection(("127.0.0.1", login.port), timeout=30)
    try:
        fragment = urlencode({"access_token": "tok", "token_type": "bearer", "state": login.state})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the per-login certificate is self-signed by design
            page = requests.post(f"https://127.0.0.1:{login.port}/", data={"fragment": fragment},
                                 verify=False, timeout=20)
        assert page.status_code == 200 and "Login complete" in page.text
        assert login.result().access_token == "tok"
        # the handshake is bounded: the server gives up on the silent connection (EOF, not a hang)
        assert silent.recv(1) == b""
    finally:
        silent.close()


def test_https_login_warns_about_the_certificate_before_opening_the_browser(monkeypatch):
    lines: list[str] = []
    opened_after: list[list[str]] = []

    def fake_browser(url: str, env: object = None, report: object = None) -> bool:
        opened_after.append(list(lines))
        raise KeyboardInterrupt  # stop here: the order is all this test is about

    monkeypatch.setattr("service.loopback.server.launch_browser", fake_browser)
    with pytest.raises(LoginCancelledError):
        browser_login(grant=GrantType.PKCE, client_id="c", preflight=None, redirect_uri="https://localhost:0",
                      endpoints=ENDPOINTS, timeout=5, open_browser=True, echo=lines.append)
    (before,) = opened_after
    notices = [line for line in lines if "self-signed certificate" in line]
    assert len(notices) == 1 and notices[0] in before
    assert "Advanced → Proceed to localhost" in notices[0]


def test_http_login_prints_no_certificate_notice(monkeypatch):
    lines: list[str] = []
    monkeypatch.setattr("service.loopback.server.launch_browser", lambda url, env=None, report=None: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(LoginCancelledError):
        browser_login(grant=GrantType.PKCE, client_id="c", preflight=None, redirect_uri="http://localhost:0",
                      endpoints=ENDPOINTS, timeout=5, open_browser=True, echo=lines.append)
    assert not [line for line in lines if "certificate" in line]
