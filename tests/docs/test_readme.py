"""The README stays a first-ten-minutes page (issue 19): short, starting with the two
set-up commands, every link going somewhere and every `make` target it names real."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
MAKEFILES = [REPO / "Makefile", *sorted((REPO / "mk").glob("*.mk"))]

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
RULE = re.compile(r"^([A-Za-z0-9_./$()-]+(?:[ \t]+[A-Za-z0-9_./$()-]+)*)[ \t]*:(?![=:])", re.M)


def code_of(text: str) -> str:
    """Fenced blocks and inline code spans: where a command is written to be run."""
    blocks = FENCE.findall(text)
    spans = re.findall(r"`([^`\n]+)`", FENCE.sub("", text))
    return "\n".join(blocks + spans)


def make_targets() -> set[str]:
    targets: set[str] = set()
    for makefile in MAKEFILES:
        for rule in RULE.findall(makefile.read_text(encoding="utf-8")):
            targets.update(name for name in rule.split() if "$" not in name)
    return targets


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [link for link in LINK.findall(text)
            if not re.match(r"[a-z][a-z0-9+.-]*:", link) and not link.startswith("#")]


def test_readme_is_at_most_250_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


def test_readme_starts_with_make_demo_then_make_test():
    text = README.read_text(encoding="utf-8")
    first = FENCE.search(text)
    assert first is not None
    before = text[:first.start()].strip().splitlines()
    assert [line for line in before if line.strip()] == ["# gclogin"]  # nothing but the title first
    commands = [line.split("#", 1)[0].strip() for line in first.group(1).splitlines()]
    assert [c for c in commands if c][:2] == ["make demo", "make test"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves_to_a_file(page):
    missing = [link for link in relative_links(page)
               if not (page.parent / link.split("#", 1)[0]).exists()]
    assert missing == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_make_target_named_exists(page):
    named = set(re.findall(r"(?<![\w-])make ([a-z][a-z0-9-]*)", code_of(page.read_text(encoding="utf-8"))))
    if page == README:
        assert {"demo", "test", "compose-up", "compose-down"} <= named  # not vacuous
    assert named - make_targets() == set()


def test_the_checks_catch_what_they_are_for(tmp_path):
    """A dangling link and an unknown target are found (the helpers are not vacuous)."""
    page = tmp_path / "p.md"
    page.write_text("[a](gone.md) [b](https://x.example) [c](#here) [d](p.md#x)\n```sh\nmake no-such-target\n```\n")
    assert relative_links(page) == ["gone.md", "p.md#x"]
    assert {"demo", "test", "compose-up", "compose-down", "test-fast"} <= make_targets()
    assert "no-such-target" not in make_targets()
    assert "no-such-target" in code_of(page.read_text())
