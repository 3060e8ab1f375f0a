"""`make demo`, the way the Makefile runs it: the launcher as a subprocess (gunicorn x2),
then the blog's story over HTTP (REFERENCE §1), then a clean stop on SIGTERM."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from service.web.demo import banner, demo_facts, environments
from tests.support.servers import REPO, free_port, stop_process, wait_http

from .walker import ALICE, CC_CLIENT, IMPLICIT_CLIENT, USER_CONTEXT_ERROR, Walker

SEED = REPO / "mock_idp" / "seed.toml"


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The launcher on free ports with a private state dir; yields (web, idp, state, proc)."""
    state = tmp_path_factory.mktemp("demo") / ".demo"
    idp_port, web_port = free_port(), free_port()
    log = state.parent / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICE_", "MOCK_IDP_"))}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.web.demo", "--idp-port", str(idp_port),
             "--web-port", str(web_port), "--state-dir", str(state), "--timeout", "60"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
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
