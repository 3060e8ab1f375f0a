"""Headless chromium through Playwright, as tests/browser launches it: Debian's
/usr/bin/chromium (or CONFORMANCE_CHROMIUM), never Playwright's bundled download, with
the flags that stop it calling Google services on a closed network."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000


class BrowserUnavailable(RuntimeError):
    """No chromium here: the checks that need the headless person cannot run."""


def chromium_path() -> str:
    path = os.environ.get("CONFORMANCE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        raise BrowserUnavailable(f"{path} is missing: install Debian's chromium (apt-get install chromium) "
                           "or set CONFORMANCE_CHROMIUM")
    return path


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclasses.dataclass
class NetworkLog:
    """What one browser context requested and navigated to, and the headers it received."""

    requests: list[tuple[str, dict[str, str]]] = dataclasses.field(default_factory=list)
    navigations: list[str] = dataclasses.field(default_factory=list)
    responses: list[tuple[str, int, dict[str, str]]] = dataclasses.field(default_factory=list)

    def origins(self) -> set[str]:
        return {origin(url) for url, _ in self.requests if not url.startswith(("data:", "about:"))}


class _Driver(threading.local):
    """The thread's one Playwright driver, shared by nested browser() calls: Playwright's
    sync API refuses a second driver while one runs its event loop in the same thread (a
    test session that uses the suite's browser beside its own fixture does exactly that)."""

    def __init__(self) -> None:
        self.manager: Any = None
        self.playwright: Any = None
        self.users = 0


_DRIVER = _Driver()


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if _DRIVER.users == 0:
        _DRIVER.manager = sync_playwright()
        _DRIVER.playwright = _DRIVER.manager.start()
    _DRIVER.users += 1
    try:
        instance = _DRIVER.playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                                      args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
    finally:
        _DRIVER.users -= 1
        if _DRIVER.users == 0:
            _DRIVER.playwright.stop()
            _DRIVER.playwright = _DRIVER.manager = None


@contextlib.contextmanager
def recorded_page(instance) -> Iterator[tuple[Any, NetworkLog]]:
    """A fresh context (self-signed loopback certificates accepted), its page and its log."""
    context = instance.new_context(ignore_https_errors=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log = NetworkLog()
    context.on("request", lambda req: log.requests.append((req.url, dict(req.headers))))
    context.on("response", lambda resp: log.responses.append((resp.url, resp.status, dict(resp.headers))))
    page.on("framenavigated", lambda frame: log.navigations.append(frame.url) if frame == page.main_frame else None)
    try:
        yield page, log
    finally:
        context.close()
