"""Implicit and PKCE logins end to end: `gclogin login` plus headless chromium typing.

Warm: the browser is already running, one context (profile) for every warm login, as a
user's browser is; its cookies are cleared before each login, so the IdP always asks for
the credentials, and each login gets a new tab, opened before the clock; the clock
starts when the CLI prints the authorize URL. Cold: the
clock starts before the command, and the browser is launched only once the URL is
printed. Both stop when the new token lands in config.toml ("profile saved"); command
exit is recorded too. Playwright's driver is started before any clock (it is the
harness, not the browser).

Typing goes through the keyboard only (CDP input events), never a selector:
Playwright's first selector call on a new document (page.fill, page.focus, page.type)
injects its selector engine, about 170 ms on the loaded 2-core bench machine, a
cost no human login has.
"""
from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devtools.servers import stop_process

from bench.cli_timing import gclogin
from bench.fixtures import cached_token, drop_token

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
_AUTHORIZE_URL = re.compile(r"https?://\S+/oauth/authorize\?\S+")


class LoginError(RuntimeError):
    """A login did not complete; the message never holds a token or a password."""


@dataclass(frozen=True)
class LoginRun:
    flow: str
    mode: str  # "warm" or "cold"
    saved_ms: float  # clock start -> token in config.toml
    exited_ms: float  # clock start -> command exited 0
    stages_ms: dict[str, float]  # where the time went, in order; they add up to saved_ms


STAGES = ("command start -> URL printed", "browser launch", "login page loaded",
          "credentials typed (Playwright)", "submit -> profile saved")


def _launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _read_lines(stream, lines: queue.Queue) -> None:
    for raw in iter(stream.readline, b""):
        lines.put(raw.decode(errors="replace"))
    lines.put(None)


def _wait_for_url(proc: subprocess.Popen, lines: queue.Queue, deadline: float) -> str:
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise LoginError("gclogin login printed no authorize URL in time") from None
        if line is None:
            raise LoginError(f"gclogin login exited {proc.wait()} before printing an authorize URL")
        match = _AUTHORIZE_URL.search(line)
        if match:
            return match.group(0)


def _wait_for_save(config: Path, profile: str, before: str, deadline: float) -> float:
    """Poll config.toml (atomic renames change its inode) until a new token is in it."""
    last = None
    while time.monotonic() < deadline:
        try:
            st = os.stat(config)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = None
        if key != last:
            last = key
            token = cached_token(config, profile)
            if token and token != before:
                return time.perf_counter()
        time.sleep(0.001)
    raise LoginError(f"profile {profile} was not saved with a new token in time")


# What clicking into the username field does; a plain evaluate needs no selector engine.
# (The page's autofocus alone loses a race with the first keystroke about 1 time in 5.)
_FOCUS_USERNAME = "document.getElementById('username').focus()"


def type_credentials(page, username: str, password: str) -> None:
    """Type as a user would: into the username field, Tab, the password."""
    page.evaluate(_FOCUS_USERNAME)
    page.keyboard.insert_text(username)
    page.keyboard.press("Tab")
    page.keyboard.insert_text(password)


def submit(page) -> None:
    """Enter in the password field: the form's one submit button (#login) submits it."""
    page.keyboard.press("Enter")


def login_once(playwright, context, *, flow: str, profile: str, config: Path,
               env: Mapping[str, str], username: str, password: str,
               timeout: float) -> LoginRun:
    """One login in a new tab of ``context``; None means cold (launch the browser after the
    URL appears). The context's cookies are cleared first, so the IdP always asks for
    the credentials (no single sign-on from an earlier login)."""
    drop_token(config, profile)
    before = cached_token(config, profile)
    cmd = gclogin("--config", str(config), "login", "-p", profile, "--no-browser")
    deadline = time.monotonic() + timeout
    if context is not None:
        context.clear_cookies()
    page = context.new_page() if context is not None else None
    own_browser = None
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**env, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    marks = [start]
    try:
        url = _wait_for_url(proc, lines, deadline)
        marks.append(time.perf_counter())
        if page is None:
            own_browser = _launch(playwright)
            page = own_browser.new_page()
        else:
            start = marks[0] = marks[1]  # warm: the clock starts at the authorize URL
        marks.append(time.perf_counter())
        # The form is usable once parsed; "load" would also wait for the first paint.
        page.goto(url, timeout=timeout * 1000, wait_until="domcontentloaded")
        marks.append(time.perf_counter())
        type_credentials(page, username, password)
        marks.append(time.perf_counter())
        submit(page)
        marks.append(_wait_for_save(config, profile, before, deadline))
        code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        exited = time.perf_counter()
        if code != 0:
            raise LoginError(f"gclogin login exited {code} after saving the profile")
        stages = {name: (b - a) * 1000 for name, a, b in zip(STAGES, marks, marks[1:], strict=False)}
        return LoginRun(flow, "warm" if context is not None else "cold",
                        (marks[-1] - start) * 1000, (exited - start) * 1000, stages)
    except subprocess.TimeoutExpired:
        raise LoginError("gclogin login did not exit after saving the profile") from None
    finally:
        if proc.poll() is None:
            stop_process(proc, grace=5)
        reader.join(timeout=5)
        if context is not None and page is not None:
            # Waiting for the close hangs Playwright here now and then once a login is done.
            page.close(run_before_unload=True)
        if own_browser is not None:
            own_browser.close()


def run_logins(*, flows: Mapping[str, str], config: Path, env: Mapping[str, str],
               username: str, password: str, runs: int, timeout: float,
               warmup: bool = True) -> list[LoginRun]:
    """Per flow (flow -> profile name) `runs` warm logins, each followed by one of its browser
    floor (flow "floor_<flow>", see bench.browser_floor), then `runs` cold ones."""
    from playwright.sync_api import sync_playwright

    from bench.browser_floor import floor_once, floor_servers

    results: list[LoginRun] = []
    kw = dict(config=config, env=env, username=username, password=password, timeout=timeout)
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            context = browser.new_context()
            with floor_servers() as floor:
                # One untimed round warms the mock, the CLI's imports and the browser.
                for _ in range(1 if warmup else 0):
                    for flow, profile in flows.items():
                        login_once(playwright, context, flow=flow, profile=profile, **kw)
                        floor_once(context, floor, flow=flow, username=username, password=password,
                                   timeout=timeout)
                # Interleaved, so a burst of load from elsewhere hits ours and the floor alike.
                for _ in range(runs):
                    for flow, profile in flows.items():
                        results.append(login_once(playwright, context, flow=flow, profile=profile, **kw))
                        results.append(floor_once(context, floor, flow=flow, username=username,
                                                  password=password, timeout=timeout))
        finally:
            browser.close()
        for flow, profile in flows.items():
            for _ in range(runs):
                results.append(login_once(playwright, None, flow=flow, profile=profile, **kw))
    return results
