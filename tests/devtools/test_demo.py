"""`make demo`, the way the Makefile runs it: the launcher as a subprocess (gunicorn x2),
then the blog's story over HTTP (REFERENCE §1) and the CLI lines it prints, then a clean
stop on SIGTERM; ports in use fail at once; a closed terminal (SIGHUP) or a killed launcher leaves no server."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from devtools.demo import DemoError, banner, cli_lines, demo_facts, environments, reserve_ports
from devtools.servers import REPO, free_port, free_ports, stop_process, wait_http

from tests.web.walker import ALICE, CC_CLIENT, IMPLICIT_CLIENT, PKCE_CLIENT, USER_CONTEXT_ERROR, Walker

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
    # The seeded demo secret is printed once, in the banner; no server log line carries it.
    assert [line for line in log.read_text().splitlines() if CC_CLIENT[1] in line] == [
        f"    Client Credentials client id: {CC_CLIENT[0]}  secret: {CC_CLIENT[1]}  (Demo client credentials (admin))"]


@pytest.mark.slow
def test_demo_prints_every_seeded_credential_and_stops_on_sigterm(demo):
    web, idp, state, proc, log = demo
    text = log.read_text()
    assert f"open {web}/" in text
    seed = tomllib.loads(SEED.read_text())
    for user in seed["users"]:
        assert f"demo user: {user['username']}  password: {user['password']}" in text
    for client in seed["clients"]:
        assert client["id"] in text
        if client["secret"]:
            assert f"{client['id']}  secret: {client['secret']}" in text  # demo data, printed in full
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
    # any loopback port, localhost included (RFC 8252 §7.3): the demo's opt-in, on every port
    assert idp["MOCK_IDP_LOOPBACK_ANY_PORT"] == "localhost"
    idp_default, _ = environments(Path("/s"), 8081, 8080, SEED, {})
    assert idp_default["MOCK_IDP_LOOPBACK_ANY_PORT"] == "localhost"


def test_banner_lists_users_and_clients_from_the_seed():
    facts = demo_facts(tomllib.loads(SEED.read_text()))
    cli = cli_lines(facts, "http://127.0.0.1:8081", (8081, 8080), Path("/s/config.toml"), ".venv/bin/gclogin")
    text = banner("http://127.0.0.1:8080", "http://127.0.0.1:8081", facts, Path(".demo"), SEED, cli)
    assert "alice@example.com  password: alice-demo-password" in text and "Implicit Grant client id" in text
    assert f"{CC_CLIENT[0]}  secret: {CC_CLIENT[1]}" in text
    assert [line.strip() for line in text.splitlines() if "bin/gclogin " in line] == cli


def test_cli_lines_use_the_seeds_pkce_client_on_a_free_registered_port():
    facts = demo_facts(tomllib.loads(SEED.read_text()))
    new, me = cli_lines(facts, "http://127.0.0.1:8081", (8081, 8080), Path("/a b/config.toml"), ".venv/bin/gclogin")
    assert new == ("GCLOGIN_CONFIG='/a b/config.toml' .venv/bin/gclogin profiles new --name demo "
                   "--environment http://127.0.0.1:8081 --grant-type pkce "
                   f"--client-id {PKCE_CLIENT} --redirect-port 8090 --no-https --yes")
    assert me == "GCLOGIN_CONFIG='/a b/config.toml' .venv/bin/gclogin users me get -p demo"
    # 8090 taken by the demo itself: no registered localhost port is left, so no lines.
    assert cli_lines(facts, "http://127.0.0.1:8081", (8090, 8080), Path("c"), "gclogin") == []
    no_pkce = {**facts, "clients": [c for c in facts["clients"] if c["grant"] != "CODE"]}
    assert cli_lines(no_pkce, "http://127.0.0.1:8081", (8081, 8080), Path("c"), "gclogin") == []


_SCRIPTED_BROWSER = '''
import sys, traceback, urllib.parse, requests
from mock_idp.testing import parse_login_form
try:
    session = requests.Session()
    page = session.get(sys.argv[-1], timeout=30)
    form = parse_login_form(page.text)
    session.post(urllib.parse.urljoin(page.url, form.action), timeout=30,
                 data={**form.fields, "username": sys.argv[1], "password": sys.argv[2]})
except Exception:
    with open(__file__ + ".err", "w") as err:
        traceback.print_exc(file=err)
'''


@pytest.mark.slow
def test_the_printed_cli_lines_log_in_and_print_the_user(tmp_path):
    """The two lines, run as printed (a scripted person signs in as Alice), give Alice's users/me."""
    idp_port, web_port, cli_port = free_ports(3)
    seed = tmp_path / "seed.toml"
    # the first registered localhost redirect is the one the banner offers: make it a free port
    seed.write_text(SEED.read_text().replace('"http://localhost:8080"', f'"http://localhost:{cli_port}"'))
    log = tmp_path / "log"
    proc = _launch(tmp_path / ".demo", idp_port, web_port, log, "--seed", str(seed), "--workers", "1")
    try:
        wait_http(f"http://127.0.0.1:{web_port}/healthz", timeout=60, proc=proc)
        deadline = time.monotonic() + 30  # bounded: the banner follows the health checks
        while "Press Ctrl-C" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = [line.strip() for line in log.read_text().splitlines() if line.startswith("    GCLOGIN_CONFIG=")]
        assert len(lines) == 2 and f"--redirect-port {cli_port}" in lines[0]
        browser = tmp_path / "browser.py"
        browser.write_text(_SCRIPTED_BROWSER)
        env = {**os.environ, "GENESYSCLOUD_BROWSER": f"{sys.executable} {browser} {ALICE[0]} {ALICE[1]}"}
        results = [subprocess.run(["bash", "-c", line], cwd=REPO, env=env, capture_output=True, text=True,
                                  timeout=60) for line in lines]
    except subprocess.TimeoutExpired:
        trace = tmp_path / "browser.py.err"
        pytest.fail("the CLI waited for a login that never came: "
                    + (trace.read_text() if trace.exists() else "the scripted browser raised nothing"))
    finally:
        stop_process(proc)
    assert results[0].returncode == 0, results[0].stderr
    assert results[1].returncode == 0, results[1].stderr
    assert json.loads(results[1].stdout)["username"] == ALICE[0]


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
