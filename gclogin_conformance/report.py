"""Collect one Outcome per check and write the Markdown and HTML reports (JUnit XML is pytest's).

Client and server results are separate sections, each with its own summary line; within
a section failures come first, each with expected vs actual and the exchange that shows
it. `render_markdown` and `render_html` are pure so the harness tests can check them.
"""
from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable
from pathlib import Path

from gclogin_conformance.requirements import REQUIREMENTS, UNUSED, requirement_of

PASS, FAIL, NOT_RUN = "PASS", "FAIL", "NOT RUN"
SECTION_ORDER = ["client-profile", "client", "server", "server-mock", "web"]
SECTION_TITLES = {"client": "Client: gclogin, white-box (service/ in-process)",
                  "client-profile": "Client (judged from outside, by its profile)",
                  "server": "Server (authorization server and API)",
                  "server-mock": "Server: mock-only checks (need this project's mock: seed, admin API, internals)",
                  "web": "Web service"}


@dataclasses.dataclass(frozen=True)
class Outcome:
    requirement: str
    test: str
    target: str
    result: str
    detail: str                 # the check's docstring (PASS), the skip reason, or the failure
    group: str = "server"
    expected: str = ""
    actual: str = ""
    exchange: str = ""


def summarise(outcomes: Iterable[Outcome]) -> dict[str, str]:
    """Requirement id → overall result: any FAIL fails it; all NOT RUN is NOT RUN."""
    by_req: dict[str, list[str]] = {}
    for o in outcomes:
        by_req.setdefault(o.requirement, []).append(o.result)
    summary = {}
    for req, results in by_req.items():
        if FAIL in results:
            summary[req] = f"{FAIL} ({results.count(FAIL)} of {len(results)})"
        elif PASS in results:
            not_run = results.count(NOT_RUN)
            summary[req] = PASS if not not_run else f"{PASS} ({not_run} not run)"
        else:
            summary[req] = NOT_RUN
    return summary


def counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    listed = list(outcomes)
    return {r: sum(1 for o in listed if o.result == r) for r in (PASS, FAIL, NOT_RUN)}


def summary_line(outcomes: list[Outcome]) -> str:
    c = counts(outcomes)
    verdict = "FAIL" if c[FAIL] else ("PASS" if c[PASS] else "NOT RUN")
    return f"{verdict}: {c[PASS]} passed, {c[FAIL]} failed, {c[NOT_RUN]} not run ({len(outcomes)} checks)."


def sections(outcomes: list[Outcome]) -> list[tuple[str, list[Outcome]]]:
    order = list(REQUIREMENTS)
    out = []
    for group in SECTION_ORDER:
        mine = [o for o in outcomes if o.group == group]
        if mine:
            rank = {FAIL: 0, NOT_RUN: 1, PASS: 2}
            mine.sort(key=lambda o: (rank[o.result], order.index(o.requirement), o.test))
            out.append((group, mine))
    return out


def _cell(text: str, limit: int = 240) -> str:
    line = " ".join(text.split()).replace("|", "\\|")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _unused_note() -> str:
    return (f"Requirement numbers {', '.join(UNUSED)} are unused: REFERENCE §7 defines no such requirement, "
            "so no check exists for them.")


def render_markdown(outcomes: list[Outcome], target: str, runner_counts: str = "") -> str:
    """The report: per section a summary line, failures (expected/actual/exchange), all requirements, all checks."""
    lines = [f"# Conformance report — {target}", "", f"Overall: {summary_line(outcomes)}"]
    if runner_counts:
        lines.append(f"Test runner: {runner_counts}")
    lines += ["", _unused_note(), ""]
    for group, mine in sections(outcomes):
        lines += [f"## {SECTION_TITLES[group]}", "", summary_line(mine), ""]
        failed = [o for o in mine if o.result == FAIL]
        if failed:
            lines += ["### Failures", ""]
            for o in failed:
                lines.append(f"- **{o.requirement}** `{o.test}` — {_cell(REQUIREMENTS[o.requirement], 120)}")
                if o.expected:
                    lines += [f"  - expected: {_cell(o.expected, 400)}", f"  - actual: {_cell(o.actual, 400)}"]
                else:
                    lines.append(f"  - {_cell(o.detail, 400)}")
                if o.exchange:
                    lines += ["", "    ```", *("    " + x for x in o.exchange.splitlines()), "    ```"]
            lines.append("")
        summary = summarise(mine)
        lines += ["### Requirements", "", "| requirement | title | result |", "|---|---|---|"]
        for req, title in REQUIREMENTS.items():
            lines.append(f"| {req} | {_cell(title)} | {summary.get(req, 'no check in this section')} |")
        for req in UNUSED:
            lines.append(f"| {req} | (unused number: no such requirement) | — |")
        lines += ["", "### Checks", "", "| requirement | check | target | result | detail |", "|---|---|---|---|---|"]
        for o in mine:
            detail = f"expected {o.expected}; actual {o.actual}" if o.expected else o.detail
            lines.append(f"| {o.requirement} | `{o.test}` | {_cell(o.target, 80)} | {o.result} | {_cell(detail)} |")
        lines.append("")
    return "\n".join(lines) + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top;text-align:left}"
        ".FAIL{background:#fdd}.PASS{background:#dfd}.NOTRUN{background:#eee}pre{background:#f6f6f6;padding:.5em;"
        "white-space:pre-wrap}")


def render_html(outcomes: list[Outcome], target: str, runner_counts: str = "") -> str:
    """One self-contained page (inline style, no script, no external resource)."""
    e = html.escape
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>Conformance report — {e(target)}</title><style>{_CSS}</style></head><body>",
             f"<h1>Conformance report — {e(target)}</h1><p><strong>Overall: {e(summary_line(outcomes))}</strong></p>"]
    if runner_counts:
        parts.append(f"<p>Test runner: {e(runner_counts)}</p>")
    parts.append(f"<p>{e(_unused_note())}</p>")
    for group, mine in sections(outcomes):
        parts += [f"<h2>{e(SECTION_TITLES[group])}</h2>", f"<p><strong>{e(summary_line(mine))}</strong></p>"]
        failed = [o for o in mine if o.result == FAIL]
        if failed:
            parts.append("<h3>Failures</h3>")
            for o in failed:
                parts.append(f"<div class='FAIL'><p><strong>{e(o.requirement)}</strong> <code>{e(o.test)}</code> — "
                             f"{e(REQUIREMENTS[o.requirement])}</p>")
                if o.expected:
                    parts.append(f"<p>expected: {e(o.expected)}<br>actual: {e(o.actual)}</p>")
                else:
                    parts.append(f"<p>{e(o.detail)}</p>")
                if o.exchange:
                    parts.append(f"<pre>{e(o.exchange)}</pre>")
                parts.append("</div>")
        summary = summarise(mine)
        parts.append("<h3>Requirements</h3><table><tr><th>requirement</th><th>title</th><th>result</th></tr>")
        for req, title in REQUIREMENTS.items():
            result = summary.get(req, "no check in this section")
            parts.append(f"<tr class='{result.split(' ')[0].replace('NOT', 'NOTRUN')}'><td>{req}</td>"
                         f"<td>{e(title)}</td><td>{e(result)}</td></tr>")
        for req in UNUSED:
            parts.append(f"<tr><td>{req}</td><td>(unused number: no such requirement)</td><td>—</td></tr>")
        parts.append("</table><h3>Checks</h3><table><tr><th>requirement</th><th>check</th><th>result</th>"
                     "<th>detail</th></tr>")
        for o in mine:
            detail = f"expected {o.expected}; actual {o.actual}" if o.expected else o.detail
            parts.append(f"<tr class='{o.result.replace(' ', '')}'><td>{o.requirement}</td><td><code>{e(o.test)}"
                         f"</code></td><td>{o.result}</td><td>{e(detail)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _docstring_line(item) -> str:
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _failure_line(text: str) -> str:
    """The first `E   ...` line of a failure (the assertion), else its last line."""
    lines = text.strip().splitlines()
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return " ".join(errors[:3]) if errors else (lines[-1] if lines else "failed")


class ReportPlugin:
    """pytest plugin: one Outcome per check; writes the Markdown and HTML reports at the end."""

    def __init__(self, markdown_path: Path, html_path: Path | None = None, target: str = "") -> None:
        self.markdown_path = markdown_path
        self.html_path = html_path
        self.outcomes: list[Outcome] = []
        self.target = target or "self-check"
        self._docs: dict[str, str] = {}
        self._failed: dict[str, object] = {}

    def pytest_collection_modifyitems(self, items) -> None:
        for item in items:
            self._docs[item.nodeid] = _docstring_line(item)

    def pytest_runtest_makereport(self, item, call) -> None:
        """Keep the exception (logreport gets only its text) for expected/actual/exchange."""
        if call.excinfo is not None:
            self._failed[item.nodeid] = call.excinfo.value

    def pytest_runtest_logreport(self, report) -> None:
        name = report.nodeid.rsplit("::", 1)[-1]
        req = requirement_of(name)
        if req is None:
            return
        props = dict(report.user_properties)
        where, group = props.get("target", ""), props.get("group", "server")
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
                self._add(req, name, where, group, NOT_RUN, reason.removeprefix("Skipped: "))
            elif report.failed:
                self._add_failure(req, name, where, group, report)
            else:
                self._add(req, name, where, group, PASS, self._docs.get(report.nodeid, ""))
        elif report.when == "teardown" and report.failed:
            self._add(req, name, where, group, FAIL, "teardown: " + _failure_line(report.longreprtext))

    def _add_failure(self, req, name, where, group, report) -> None:
        from gclogin_conformance.expect import CheckFailed

        exc = self._failed.get(report.nodeid)
        if isinstance(exc, CheckFailed):
            self.outcomes.append(Outcome(req, name, where, FAIL, str(exc), group, exc.expected, exc.actual,
                                         exc.exchange))
        else:
            prefix = "setup: " if report.when == "setup" else ""
            self._add(req, name, where, group, FAIL, prefix + _failure_line(report.longreprtext))

    def _add(self, req: str, name: str, where: str, group: str, result: str, detail: str) -> None:
        self.outcomes.append(Outcome(req, name, where, result, detail, group))

    def pytest_sessionfinish(self, session) -> None:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        ran = ""
        if reporter is not None:
            stats = {k: len(v) for k, v in reporter.stats.items() if k in ("passed", "failed", "skipped", "error")}
            ran = ", ".join(f"{v} {k}" for k, v in sorted(stats.items())) or "nothing ran"
        self.markdown_path.parent.mkdir(parents=True, exist_ok=True)
        self.markdown_path.write_text(render_markdown(self.outcomes, self.target, ran), encoding="utf-8")
        if self.html_path is not None:
            self.html_path.write_text(render_html(self.outcomes, self.target, ran), encoding="utf-8")
