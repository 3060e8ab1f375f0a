"""`python -m mock_idp`: werkzeug's server, loopback by default, clear start-up errors."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from mock_idp.__main__ import parse_args
from devtools.servers import REPO, free_port, stop_process, wait_http

from .conftest import CC

TIMEOUT = 10


def run_module(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mock_idp", *args], cwd=REPO,
                            env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def test_defaults_are_loopback_and_8081():
    args = parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 8081)
    assert parse_args(["--host", "::1", "--port", "0"]).port == 0


@pytest.mark.parametrize("port", ["-1", "65536", "http", ""])
def test_bad_port_is_a_usage_error(port, capsys):
    with pytest.raises(SystemExit) as info:
        parse_args(["--port", port])
    assert info.value.code == 2 and "--port" in capsys.readouterr().err


@pytest.mark.slow
def test_serves_the_mock_and_logs_no_secrets(tmp_path):
    port = free_port()
    proc = run_module(["--port", str(port)], {"MOCK_IDP_DB": str(tmp_path / "s.sqlite3")})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz", proc=proc)
        token = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(CC.id, CC.secret), timeout=TIMEOUT).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.get(base + "/api/v2/tokens/me", headers=auth, timeout=TIMEOUT).ok
        assert requests.delete(base + "/api/v2/tokens/me", headers=auth,
                               timeout=TIMEOUT).status_code == 204
    finally:
        stop_process(proc)
    out = proc.stdout.read().decode(errors="replace")
    assert f"Mock IdP listening on {base}" in out
    assert "POST /oauth/token" in out  # werkzeug's request log is there...
    assert token not in out and CC.secret not in out  # ...without secrets (R25)
    assert (tmp_path / "s.sqlite3").exists()


@pytest.mark.slow
def test_bad_seed_exits_2_with_one_line(tmp_path):
    seed = tmp_path / "seed.toml"
    seed.write_text("[[clients]]\nid = 'x'\n")
    proc = run_module(["--port", "0"], {"MOCK_IDP_SEED": str(seed),
                                        "MOCK_IDP_DB": str(tmp_path / "s.sqlite3")})
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out.decode().strip().splitlines() == [
        f"mock_idp: seed file {seed}: clients[0] (id 'x'): field 'authorized_grant_type': missing"]


@pytest.mark.slow
def test_busy_port_fails_clearly(tmp_path):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_module(["--port", str(port)], {"MOCK_IDP_DB": str(tmp_path / "s.sqlite3")})
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0 and f"Port {port} is in use" in out.decode()  # werkzeug's words


def test_default_store_is_keyed_by_the_server_itself(tmp_path, monkeypatch):
    """Without MOCK_IDP_DB, `python -m mock_idp` keys its store by its own pid, not the shell's."""
    from mock_idp.config import default_db_path
    assert default_db_path(os.getpid()) != default_db_path()  # pytest's pid is not its parent's
    assert f"store-{os.getpid()}-" in default_db_path(os.getpid()).name
