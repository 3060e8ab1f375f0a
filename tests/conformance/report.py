"""Collect per-test outcomes and write the Markdown report (the JUnit XML is pytest's).

`ReportPlugin` is handed to pytest by `__main__`; `render_markdown` is pure so the
harness tests can check it without running pytest.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from tests.conformance.requirements import REQUIREMENTS, requirement_of

PASS, FAIL, NOT_RUN = "PASS", "FAIL", "NOT RUN"


@dataclasses.dataclass(frozen=True)
class Outcome:
    requirement: str
    test: str
    target: str
    result: str
    detail: str


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split()).replace("|", "\\|")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def summarise(outcomes: Iterable[Outcome]) -> dict[str, str]:
    """Requirement id → overall result: any FAIL fails it; all NOT RUN is NOT RUN."""
    by_req: dict[str, list[str]] = {}
    for o in outcomes:
        by_req.setdefault(o.requirement, []).append(o.result)
    summary = {}
    for req, results in by_req.items():
        if FAIL in results:
            summary[req] = FAIL
        elif PASS in results:
            not_run = results.count(NOT_RUN)
            summary[req] = PASS if not not_run else f"{PASS} ({not_run} not run)"
        else:
            summary[req] = NOT_RUN
    return summary


def render_markdown(outcomes: list[Outcome], target: str) -> str:
    """The report: one summary row per requirement, then one row per test."""
    summary = summarise(outcomes)
    lines = [f"# Conformance report — target: {target}", ""]
    counts = {r: sum(1 for o in outcomes if o.result == r) for r in (PASS, FAIL, NOT_RUN)}
    lines.append(f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[NOT_RUN]} not run "
                 f"({len(outcomes)} tests).")
    lines += ["", "| requirement | title | result |", "|---|---|---|"]
    for req, title in REQUIREMENTS.items():
        lines.append(f"| {req} | {_one_line(title)} | {summary.get(req, 'NO TEST')} |")
    lines += ["", "| requirement | test | target | result | detail |", "|---|---|---|---|---|"]
    order = list(REQUIREMENTS)
    for o in sorted(outcomes, key=lambda o: (order.index(o.requirement), o.test)):
        lines.append(f"| {o.requirement} | `{o.test}` | {_one_line(o.target)} | {o.result} "
                     f"| {_one_line(o.detail)} |")
    return "\n".join(lines) + "\n"


def _docstring_line(item) -> str:
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _failure_line(text: str) -> str:
    """The first `E   ...` line of a failure (the assertion), else its last line."""
    lines = text.strip().splitlines()
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return errors[0] if errors else (lines[-1] if lines else "failed")


class ReportPlugin:
    """pytest plugin: records one Outcome per requirement test."""

    def __init__(self, markdown_path: Path) -> None:
        self.markdown_path = markdown_path
        self.outcomes: list[Outcome] = []
        self.target = "unknown"
        self._docs: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items) -> None:
        for item in items:
            self._docs[item.nodeid] = _docstring_line(item)

    def pytest_runtest_logreport(self, report) -> None:
        name = report.nodeid.rsplit("::", 1)[-1]
        req = requirement_of(name)
        if req is None:
            return
        props = dict(report.user_properties)
        self.target = props.get("target_kind", self.target)
        where = props.get("target", "")
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
                self._add(req, name, where, NOT_RUN, reason.removeprefix("Skipped: "))
            elif report.failed:
                self._add(req, name, where, FAIL, _failure_line(report.longreprtext))
            else:
                self._add(req, name, where, PASS, self._docs.get(report.nodeid, ""))
        elif report.when == "teardown" and report.failed:
            self._add(req, name, where, FAIL, "teardown: " + _failure_line(report.longreprtext))

    def _add(self, req: str, name: str, where: str, result: str, detail: str) -> None:
        self.outcomes.append(Outcome(req, name, where, result, detail))

    def pytest_sessionfinish(self, session) -> None:
        self.markdown_path.parent.mkdir(parents=True, exist_ok=True)
        self.markdown_path.write_text(render_markdown(self.outcomes, self.target), encoding="utf-8")
