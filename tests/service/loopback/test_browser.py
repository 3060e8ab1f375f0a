"""A browser program that cannot be started is reported, and the URL is printed anyway
(gc fails and never prints it; REFERENCE §6)."""
from __future__ import annotations

import sys

import pytest

from service.loopback.browser import open_browser

URL = "http://127.0.0.1:1/oauth/authorize?client_id=c"


@pytest.mark.slow
def test_a_nonexistent_program_is_reported():
    lines: list[str] = []
    assert open_browser(URL, {"GENESYSCLOUD_BROWSER": "/nonexistent/browser --flag"}, lines.append) is False
    assert lines == ["Could not start the browser program '/nonexistent/browser --flag' "
                     "(GENESYSCLOUD_BROWSER): No such file or directory."]


@pytest.mark.slow
def test_a_program_that_exits_non_zero_at_once_is_reported():
    lines: list[str] = []
    program = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    assert open_browser(URL, {"GENESYSCLOUD_BROWSER": program}, lines.append) is False
    assert lines == [f"The browser program {program!r} (GENESYSCLOUD_BROWSER) exited with status 3."]


@pytest.mark.slow
def test_a_program_that_succeeds_is_not_reported():
    lines: list[str] = []
    assert open_browser(URL, {"GENESYSCLOUD_BROWSER": f"{sys.executable} -c pass"}, lines.append) is True
    assert lines == []


def test_an_empty_setting_opens_nothing_and_says_nothing():
    lines: list[str] = []
    assert open_browser(URL, {"GENESYSCLOUD_BROWSER": "  "}, lines.append) is False
    assert lines == []


def test_an_unparsable_setting_is_reported():
    lines: list[str] = []
    assert open_browser(URL, {"GENESYSCLOUD_BROWSER": "'unclosed"}, lines.append) is False
    assert lines == ["Could not start the browser program \"'unclosed\" (GENESYSCLOUD_BROWSER): ValueError."]
