"""Each atheris harness runs two seconds from the repo corpus without a crash.

`make fuzz` runs the same harnesses for a minute each; this keeps them from rotting.
New inputs go to a temporary directory, never into the repo's corpus.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HARNESSES = sorted((REPO / "fuzz").glob("fuzz_*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("harness", HARNESSES, ids=[h.stem for h in HARNESSES])
def test_harness_runs_clean(harness: Path, tmp_path: Path) -> None:
    target = harness.stem.removeprefix("fuzz_")
    corpus = REPO / "fuzz" / "corpus" / target
    assert corpus.is_dir() and any(corpus.iterdir()), f"no seed corpus in {corpus}"
    (tmp_path / "new").mkdir()
    result = subprocess.run(
        [sys.executable, str(harness), "-max_total_time=2", "-timeout=10",
         "-rss_limit_mb=2048", f"-artifact_prefix={tmp_path}/", str(tmp_path / "new"), str(corpus)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp_path)},   # the harness's scratch files
    )
    tail = "\n".join(result.stderr.splitlines()[-30:])
    assert result.returncode == 0, f"{harness.name} exited {result.returncode}:\n{tail}"
    assert "Done" in result.stderr, tail
    assert not list(tmp_path.glob("crash-*")), tail
