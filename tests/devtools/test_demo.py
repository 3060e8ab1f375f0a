"""`make demo`, the way the Makefile runs it: the launcher as a subprocess (gunicorn x2),
then the blog's story over HTTP (REFERENCE §1), then a clean stop on SIGTERM; ports in
use fail at once; a closed terminal (SIGHUP) or a killed launcher leaves no server."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from devtools.demo import DemoError, banner, demo_facts, environments, reserve_ports
from devtools.servers import REPO, free_port, free_ports, stop_process, wait_http

from tests.web.walker import ALICE, CC_CLIENT, IMPLICIT_CLIENT, USER_CONTEXT_ERROR, Walker

SEED = REPO / "mock_idp" / "seed.toml"


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _launch(state: Path, idp_port: int, web_port: int, log: Path, *extra: str) -> subprocess.Popen:
    """The launcher as `make demo` runs it, in its own process group (as make's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICE_", "MOCK_IDP_"))}
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "devtools.demo", "--idp-port", str(idp_port),
             "--web-port", str(web_port), "--state-dir", str(state), "--timeout", "60", *extra],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, None if gone (zombies count as gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]
    return None if state in ("Z", "X") else (state, int(ppid))


def _descendants(root: int) -> set[int]:
    """Every live process below root (the gunicorn masters and their workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _proc_stat(int(entry.name))):
            parents[int(entry.name)] = found[1]
    below, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - below
        below |= frontier
    return below


def _wait_gone(pids: set[int], bound: float = 30.0) -> set[int]:
    """Bounded wait for pids to exit; returns those still alive."""
    deadline = time.monotonic() + bound
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _proc_stat(pid)}
        time.sleep(0.1)
    return alive


def _kill_leftovers(pids: set[int]) -> None:
    for pid in pids:
        if _proc_stat(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The launcher on free ports with a private state dir; yields (web, idp, state, proc)."""
    state = tmp_path_factory.mktemp("demo") / ".demo"
    idp_port, web_port = free_ports(2)
    log = state.parent / "demo.log"
    proc = _launch(state, idp_port, web_port, log)
    web, idp = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{idp_port}"
    try:
        wait_http(web + "/healthz", timeout=60, proc=proc)
        wait_http(idp + "/healthz", timeout=60, proc=proc)
        yield web, idp, state, proc, log
    finally:
        stop_process(proc)


@pytest.mark.slow
def test_blog_story_through_the_demo_stack(demo):
    web, idp, state, proc, log = demo
    walker = Walker(web)
    # 1-3: a profile with the implicit grant, log in as the demo user, users me.
    start = walker.new_profile(name="blog", environment=idp, grant_type="2", client_id=IMPLICIT_CLIENT)
    assert start.headers["Location"].startswith(idp + "/oauth/authorize?")
    done = walker.browser_login(start, ALICE)
    assert done.status_code == 303 and done.headers["Location"] == "/profiles/blog"
    me = walker.get("/profiles/blog/me")
    assert me.status_code == 200 and ALICE[0] in me.text
    # 4: a client-credentials profile gets Genesys's user-context error.
    cc = walker.new_profile(name="robot", environment=idp, grant_type="1",
                            client_id=CC_CLIENT[0], client_secret=CC_CLIENT[1])
    assert cc.status_code == 303
    refused = walker.get("/profiles/robot/me")
    assert 400 <= refused.status_code < 500 and USER_CONTEXT_ERROR in refused.text
    # Log out revokes: who am I now asks to log in again.
    out = walker.post_form("/profiles/blog/logout", {}, token_page="/profiles/blog")
    assert out.status_code == 303
    assert walker.get("/profiles/blog/me").status_code == 401
    # The demo's state stays in its private directory, secrets 0600 in 0700.
    assert (state / "config.toml").stat().st_mode & 0o077 == 0
    assert state.stat().st_mode & 0o077 == 0
    assert CC_CLIENT[1] not in log.read_text()


@pytest.mark.slow
def test_demo_prints_url_user_and_client_ids_and_stops_on_sigterm(demo):
    web, idp, state, proc, log = demo
    text = log.read_text()
    assert f"open {web}/" in text and ALICE[0] in text and ALICE[1] in text
    for client in tomllib.loads(SEED.read_text())["clients"]:
        assert client["id"] in text
        if client["secret"]:
            assert client["secret"] not in text  # secrets are never printed (R25)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    port = int(web.rsplit(":", 1)[1])
    assert _port_closed(port) and _port_closed(int(idp.rsplit(":", 1)[1]))


def test_demo_environments_isolate_the_demo():
    idp, web = environments(Path("/s"), 9001, 9000, SEED,
                            {"GENESYSCLOUD_REGION": "eu-west-1", "PATH": "/bin", "SERVICE_X": "1"})
    assert "GENESYSCLOUD_REGION" not in web and "SERVICE_X" not in web and web["PATH"] == "/bin"
    assert web["SERVICE_IDP_URL"] == "http://127.0.0.1:9001"
    assert web["SERVICE_PUBLIC_URL"] == "http://127.0.0.1:9000"
    assert web["GCLOGIN_CONFIG"] == "/s/config.toml" and idp["MOCK_IDP_DB"] == "/s/idp.sqlite3"
    assert idp["MOCK_IDP_LOOPBACK_ANY_PORT"] == "1"  # 9000 is not the seed's registered port
    idp_default, _ = environments(Path("/s"), 8081, 8080, SEED, {})
    assert "MOCK_IDP_LOOPBACK_ANY_PORT" not in idp_default  # Genesys's exact matching


def test_banner_lists_users_and_clients_from_the_seed():
    facts = demo_facts(tomllib.loads(SEED.read_text()))
    text = banner("http://127.0.0.1:8080", "http://127.0.0.1:8081", facts, Path(".demo"), SEED)
    assert "alice@example.com" in text and "Implicit Grant client id" in text
    assert "demo-client-credentials-secret" not in text


@pytest.mark.slow
@pytest.mark.parametrize("busy", ["IDP_PORT", "WEB_PORT"])
def test_a_port_in_use_fails_at_once_naming_the_make_variable(tmp_path, busy):
    """Another server on the port (even one answering /healthz) is not taken for ours."""
    idp_port, web_port = free_ports(2)
    port = idp_port if busy == "IDP_PORT" else web_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        proc = _launch(tmp_path / ".demo", idp_port, web_port, tmp_path / "log")
        try:
            status = proc.wait(timeout=60)
        finally:
            stop_process(proc)
    text = (tmp_path / "log").read_text()
    assert status != 0
    assert text.strip() == f"demo: port {port} is in use; choose another with `make demo {busy}=…`"
    assert "gclogin demo: open" not in text and "gunicorn" not in text


def test_reserve_ports_binds_both_or_neither():
    free = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(DemoError, match=f"port {busy} is in use.*WEB_PORT"):
            reserve_ports({"IDP_PORT": free, "WEB_PORT": busy})
    held = reserve_ports({"IDP_PORT": free})  # the failed call released its first socket
    try:
        assert held["IDP_PORT"].getsockname() == ("127.0.0.1", free)
    finally:
        held["IDP_PORT"].close()
    with pytest.raises(DemoError, match="IDP_PORT and WEB_PORT are both"):
        reserve_ports({"IDP_PORT": free, "WEB_PORT": free})


def _started(tmp_path) -> tuple[subprocess.Popen, set[int], tuple[int, int]]:
    idp_port, web_port = free_ports(2)
    proc = _launch(tmp_path / ".demo", idp_port, web_port, tmp_path / "log", "--workers", "1")
    try:
        wait_http(f"http://127.0.0.1:{web_port}/healthz", timeout=60, proc=proc)
        wait_http(f"http://127.0.0.1:{idp_port}/healthz", timeout=60, proc=proc)
        deadline = time.monotonic() + 30  # bounded: the banner follows the health checks
        while "Press Ctrl-C" not in (tmp_path / "log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        servers = _descendants(proc.pid)
    except BaseException:
        _kill_leftovers(_descendants(proc.pid))
        stop_process(proc)
        raise
    # two masters and one worker each
    assert len(servers) == 4, servers
    return proc, servers, (idp_port, web_port)


@pytest.mark.slow
def test_closing_the_terminal_stops_both_servers(tmp_path):
    """SIGHUP to make's process group (the terminal closed) stops everything, cleanly."""
    proc, servers, ports = _started(tmp_path)
    try:
        os.killpg(proc.pid, signal.SIGHUP)
        assert proc.wait(timeout=60) == 0
        assert _wait_gone(servers) == set()
        assert all(_port_closed(port) for port in ports)
    finally:
        _kill_leftovers(servers)
        stop_process(proc)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_killed_launcher_takes_the_servers_with_it(tmp_path):
    proc, servers, ports = _started(tmp_path)
    try:
        os.kill(proc.pid, signal.SIGKILL)  # no handler runs
        proc.wait(timeout=30)
        assert _wait_gone(servers) == set()
        assert all(_port_closed(port) for port in ports)
    finally:
        _kill_leftovers(servers)
