"""Point 5: a local process opens 200 connections to the loopback login and trickles a byte
now and then on each, at a descriptor limit the login process reaches. The real callback
still completes the login, and the login process stays idle meanwhile (no accept spin)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

pytestmark = pytest.mark.slow

LOGIN = r'''
import resource, sys
from service import environments, loopback
from service.profiles import GrantType
resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))   # the drippers will reach it
token = loopback.browser_login(grant=GrantType.IMPLICIT, client_id="cid",
                               redirect_uri="http://127.0.0.1:0",
                               endpoints=environments.resolve("http://127.0.0.1:9"), timeout=120,
                               open_browser=False, echo=lambda line: print(line, flush=True),
                               preflight=None)  # the loopback server alone: no IdP runs
print("DONE", token.access_token, flush=True)
'''


def cpu_seconds(pid: int) -> float:
    """utime + stime of pid, from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_200_dripping_connections_neither_block_the_callback_nor_burn_cpu():
    proc = subprocess.Popen([sys.executable, "-c", LOGIN], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    drippers: list[socket.socket] = []
    try:
        url = ""
        while "/oauth/authorize?" not in url:
            url = proc.stdout.readline()
            assert url, "the login process ended early"
        query = parse_qs(urlsplit(url[url.index("http", url.index(": ")):].strip()).query)
        redirect, state = query["redirect_uri"][0], query["state"][0]
        port = urlsplit(redirect).port
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /?state=")
            drippers.append(sock)
        before, started = cpu_seconds(proc.pid), time.monotonic()
        for _ in range(3):             # keep dripping for a few seconds
            time.sleep(1)
            for sock in drippers:
                try:
                    sock.send(b"x")
                except OSError:
                    pass               # the server cut it: fine
        used, elapsed = cpu_seconds(proc.pid) - before, time.monotonic() - started
        assert used < 0.5 * elapsed, f"the login process burnt {used:.2f} s of CPU in {elapsed:.2f} s"
        # The browser's callback, while the drippers are still connected.
        relay = requests.get(redirect + "/", timeout=60)
        assert relay.status_code == 200
        done = requests.post(redirect + "/", timeout=60,
                             data={"fragment": f"access_token=tok-real&token_type=bearer&state={state}"})
        assert done.status_code == 200 and "Login complete" in done.text
        out, _ = proc.communicate(timeout=30)
        assert "DONE tok-real" in out
        assert proc.returncode == 0
    finally:
        for sock in drippers:
            sock.close()
        proc.kill()
        proc.wait()
