"""Server mode against someone else's server: the npm oauth2-mock-server `make bench` installs
in bench/peer. Its report must show its real deviations (it accepts any client secret, it
has no Genesys API), each explained, and the command must exit non-zero."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools.servers import free_port, stop_process, wait_http

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
PEER_CLI = REPO / "bench" / "peer" / "node_modules" / "oauth2-mock-server" / "dist" / "oauth2-mock-server.js"
CREDENTIALS = """\
# oauth2-mock-server registers no clients: any id works, which is one of its deviations.
[client_credentials]
id = "conformance-cc"
secret = "conformance-secret"
[implicit]
id = "conformance-browser"
redirect_uri = "http://127.0.0.1:47123"
[pkce]
id = "conformance-browser"
redirect_uri = "http://127.0.0.1:47123"
[user]
username = "anyone"
password = "not-asked"
[endpoints]
authorize = "/authorize"
token = "/token"
"""


@pytest.fixture
def peer():
    if not PEER_CLI.exists():
        pytest.fail(f"{PEER_CLI} is missing: `make test` installs it (npm ci --prefix bench/peer)")
    port = free_port()
    proc = subprocess.Popen(["node", str(PEER_CLI), "-a", "127.0.0.1", "-p", str(port)], cwd=PEER_CLI.parents[2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/.well-known/openid-configuration", timeout=30, proc=proc)
        yield base
    finally:
        stop_process(proc)


def test_oauth2_mock_server_report_shows_its_deviations(peer, tmp_path):
    creds = tmp_path / "peer.toml"
    creds.write_text(CREDENTIALS)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "gclogin_conformance", "--out", str(out), "server", peer,
                           "--credentials", str(creds), "-q"], capture_output=True, text=True, timeout=600)
    assert done.returncode != 0, done.stdout[-2000:]
    report = (out / "conformance.md").read_text()
    (REPO / "reports").mkdir(exist_ok=True)
    (REPO / "reports" / "conformance-oauth2-mock-server.md").write_text(report)
    assert "conformance-secret" not in report
    failures = report[report.index("### Failures"):report.index("### Requirements")]
    # it accepts any client secret
    r8 = failures[failures.index("`test_R8_server_form_urldecodes_basic_credentials`"):]
    assert "expected: 401 invalid_client for a wrong client secret" in r8[:600]
    assert "actual: the server answered 200" in r8[:600]
    # it has no Genesys API
    assert "`test_G2_bad_bearer_gets_401_bad_credentials_with_correlation_id[invalid]`" in failures
    # the mock-only group is labelled and NOT RUN against it, never a pass
    mock_only = report[report.index("## Server: mock-only checks"):]
    assert "PASS: 0 passed" not in mock_only and "NOT RUN: 0 passed, 0 failed" in mock_only
    assert (out / "conformance.html").exists() and (out / "conformance.xml").exists()
