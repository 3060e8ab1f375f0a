"""Run the checks for one RunSpec with pytest and write the three reports.

The spec (credentials included) goes to pytest through a 0600 file in a private temp
directory, deleted afterwards, never on the command line. The exit status is pytest's:
non-zero when any check fails.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(spec, out_dir: Path, pytest_args: list[str] | None = None, target: str = "") -> int:
    import pytest

    from gclogin_conformance.report import ReportPlugin

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plugin = ReportPlugin(out_dir / "conformance.md", out_dir / "conformance.html", target=target or spec.mode)
    with tempfile.TemporaryDirectory(prefix="gclogin-conformance-") as private:
        spec_path = Path(private) / "spec.json"
        fd = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(spec.to_json())
        args = [str(HERE / "checks"), f"--conformance-spec={spec_path}", "-p", "gclogin_conformance.plugin",
                "-c", str(HERE / "pytest.ini"), f"--rootdir={HERE}", f"--junitxml={out_dir / 'conformance.xml'}",
                "-o", "junit_suite_name=conformance", "-o", "junit_family=xunit1", *(pytest_args or [])]
        code = int(pytest.main(args, plugins=[plugin]))
    print(f"conformance: wrote {out_dir / 'conformance.md'}, {out_dir / 'conformance.html'} and "
          f"{out_dir / 'conformance.xml'}")
    return code
