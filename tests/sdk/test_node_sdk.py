"""Genesys's JavaScript SDK (npm purecloud-platform-client-v2) in Node against the mock.

The SDK always speaks https to login./api.<environment>; its documented gateway setting
points it at the mock's plain-HTTP loopback port instead.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from mock_idp.api import USER_CONTEXT_REQUIRED

from .conftest import CC
from .models import NODE_DIR, SDK_DIR, missing_sdk_message

pytestmark = pytest.mark.slow


def run_node(script: str, *args: str, stdin: str = "") -> dict:
    node = shutil.which("node")
    if node is None or not SDK_DIR.exists():
        pytest.fail(missing_sdk_message() if node else "node is missing: `make test-python` "
                    "installs nodejs", pytrace=False)
    done = subprocess.run([node, str(NODE_DIR / script), *args], input=stdin, capture_output=True,
                          text=True, timeout=60, cwd=NODE_DIR)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_node_sdk_client_credentials_tokens_me_and_users_me_error(mock_url):
    result = run_node("client_credentials.js", mock_url, stdin=f"{CC.id}\n{CC.secret}\n")
    assert result["hasToken"]
    info = result["tokenInfo"]
    assert info["OAuthClient"]["id"] == CC.id and info["organization"]["id"]
    error = result["usersMeError"]
    assert error is not None, "getUsersMe with a client-credentials token must fail"
    assert error["status"] == 400 and error["message"] == USER_CONTEXT_REQUIRED
