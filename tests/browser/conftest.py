"""Playwright (sync API) driving Debian's headless chromium, recording what the browser sees.

The bundled Playwright browser is not available here, so the system chromium is
launched directly; the flags stop it from calling Google services on a closed network.
"""
from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from gclogin_conformance.browser import browser as shared_browser  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
TIMEOUT_MS = 15_000


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclasses.dataclass
class BrowserView:
    """One browser context's page plus everything it requested and navigated to."""

    page: sync_api.Page
    requests: list[tuple[str, dict[str, str]]] = dataclasses.field(default_factory=list)
    navigations: list[str] = dataclasses.field(default_factory=list)

    def origins(self) -> set[str]:
        return {origin(url) for url, _ in self.requests if not url.startswith(("data:", "about:"))}

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_only_origins(self, allowed: set[str]) -> None:
        """No request left for a host other than the IdP and the loopback server / web service."""
        assert self.origins() <= allowed, f"requests to {self.origins() - allowed}"

    def assert_token_not_exposed(self, secret: str, relay_origin: str) -> None:
        """After the relay, no URL, history entry or Referer carries the token (R22)."""
        assert len(secret) >= 8
        for url, headers in self.requests:
            referer = headers.get("referer", "")
            assert secret not in referer, f"Referer of {url} carries the token"
            # the token may only ever be in a fragment, which browsers never send
            assert secret not in url, f"request URL {url} carries the token"
        for url in self.navigations:
            # only the IdP's redirect to the relay page may hold it, and only in the fragment
            if secret in url:
                assert origin(url) == relay_origin and secret not in url.split("#", 1)[0], url
        relayed = [u for u in self.navigations if secret in u]
        assert len(relayed) <= 1, "the token-bearing URL was navigated to more than once"
        if relayed:  # after the relay no navigation shows it again
            assert all(secret not in u for u in self.navigations[self.navigations.index(relayed[0]) + 1:])
        assert secret not in self.page.url
        assert self.page.evaluate("location.hash") == ""
        assert secret not in self.page.evaluate("location.href")


@pytest.fixture(scope="session")
def browser() -> Iterator[sync_api.Browser]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs the Debian chromium package")
    with shared_browser() as browser:  # one Playwright driver for every browser of the session
        yield browser


@pytest.fixture
def view(browser) -> Iterator[BrowserView]:
    """A fresh context (self-signed loopback certificates accepted) and its recorder."""
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    recorded = BrowserView(page)
    context.on("request", lambda req: recorded.requests.append((req.url, dict(req.headers))))
    page.on("framenavigated", lambda frame: recorded.navigations.append(frame.url)
            if frame == page.main_frame else None)
    try:
        yield recorded
    finally:
        context.close()
