"""The genesys_mock fixture in a project that only installed the wheel: nothing of this
repository's tests/ or devtools/ on its path."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROJECT_TEST = '''
import requests


def test_a_token_and_the_user(genesys_mock):
    alice = genesys_mock.user("alice@example.com")
    token = genesys_mock.issue_token(genesys_mock.client("TOKEN").id, alice.username)
    me = requests.get(genesys_mock.base_url + "/api/v2/users/me",
                      headers={"Authorization": "Bearer " + token}, timeout=10).json()
    assert me["name"] == alice.name
    assert [r["headers"]["Authorization"] for r in genesys_mock.requests] == ["Bearer [redacted]"]


def test_a_fault_then_a_scripted_login(genesys_mock):
    genesys_mock.fail("/oauth/token", status=503)
    client = genesys_mock.client("CLIENT-CREDENTIALS")
    answer = requests.post(genesys_mock.base_url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client.id, client.secret), timeout=10)
    assert answer.status_code == 503 and answer.json()["error"] == "temporarily_unavailable"
    genesys_mock.next_login("deny")
    page = requests.get(genesys_mock.base_url + "/oauth/authorize", allow_redirects=False, timeout=10, params={
        "response_type": "token", "client_id": genesys_mock.client("TOKEN").id,
        "redirect_uri": "http://127.0.0.1:8080/callback/127.0.0.1_8081", "state": "s1"})
    assert "error=access_denied" in page.headers["Location"]


def test_state_was_reset(genesys_mock):
    assert genesys_mock.requests == []
    genesys_mock.clock.advance(10)
    assert genesys_mock.clock.now == 1_700_000_010.0
'''


@pytest.mark.slow
def test_the_fixture_works_from_the_installed_wheel(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                   check=True, timeout=300, cwd=tmp_path)
    wheel = next(wheels.glob("gclogin-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel),
                    "pytest", "requests"], check=True, timeout=600)
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_with_mock.py").write_text(textwrap.dedent(PROJECT_TEST))
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(python), "-m", "pytest", "-q"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    # It was the wheel's mock_idp, not this checkout's, and the wheel has no devtools.
    where = subprocess.run([str(python), "-c", "import mock_idp, importlib.util as u; "
                            "print(mock_idp.__file__, u.find_spec('devtools'))"], cwd=project,
                           env=env, capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert where[0].startswith(str(venv)) and where[1] == "None"
