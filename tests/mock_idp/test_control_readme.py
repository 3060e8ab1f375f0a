"""docs/testing-with-the-mock.md's control-API examples (Node, curl) run as written against the mock."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "docs" / "testing-with-the-mock.md"


def node_example() -> str:
    section = README.read_text(encoding="utf-8").split("### The control API", 1)[1]
    return re.search(r"```js\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (18+)")
def test_the_node_example_signs_in_headlessly(genesys_mock, tmp_path):
    script = node_example().replace("http://127.0.0.1:8081", genesys_mock.base_url)
    script += '\nif (me.username !== "alice@example.com") { console.error(JSON.stringify(me)); process.exit(3); }\n'
    (tmp_path / "example.mjs").write_text(script)
    env = {**os.environ, "MOCK_IDP_CONTROL_TOKEN": genesys_mock.control_token}
    done = subprocess.run(["node", str(tmp_path / "example.mjs")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert [r["path"] for r in genesys_mock.requests] == ["/oauth/authorize", "/api/v2/users/me"]


def curl_lines() -> str:
    section = README.read_text(encoding="utf-8").split("### The control API", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_every_curl_line_succeeds(genesys_mock, tmp_path):
    script = (curl_lines().replace("MOCK_IDP_CONTROL_TOKEN=ci-secret", f"MOCK_IDP_CONTROL_TOKEN={genesys_mock.control_token}")
              .replace("MOCK=http://127.0.0.1:8081", f"MOCK={genesys_mock.base_url}")
              .replace("curl -s ", "curl -sf -o /dev/null "))
    assert script.count("curl -sf") >= 12
    done = subprocess.run(["bash", "-euc", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
