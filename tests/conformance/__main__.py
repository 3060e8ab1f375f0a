"""`python -m tests.conformance [pytest args]`: run the suite, write ./reports/conformance.{xml,md}.

The target comes from CONFORMANCE_* / GENESYSCLOUD_* (see targets.py). The exit code is
pytest's, so a failing requirement fails `make conformance`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conformance.report import ReportPlugin

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def main(argv: list[str] | None = None) -> int:
    reports = Path.cwd() / "reports"
    plugin = ReportPlugin(reports / "conformance.md")
    args = [str(HERE), f"--junitxml={reports / 'conformance.xml'}",
            "-o", "junit_suite_name=conformance", "-o", "junit_family=xunit1",
            f"--rootdir={REPO}", "-c", str(REPO / "pyproject.toml"), *(argv or [])]
    code = pytest.main(args, plugins=[plugin])
    print(f"conformance: wrote {reports / 'conformance.xml'} and {reports / 'conformance.md'}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
