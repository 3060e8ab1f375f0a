"""One login of the client under test, watched from outside.

The client is started from its profile (argv with placeholders; a pty when it has a
prompt script), the authorize URL reaches the suite (the hand-over program or stdout),
the headless person signs in and follows the redirect, and the run records what the
client did next: exit status, output, what it sent the IdP, the listeners on its port,
the stored file and the browser's network log.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gclogin_conformance.client.idp_middleware import AdversarialIdp, Login
from gclogin_conformance.client.profile import ClientProfile, fill
from gclogin_conformance.servers import free_port, listening_addresses

URL_WAIT = 20.0     # for the client to produce the authorize URL
SETTLE = 2.0        # for the client to finish (or stay waiting) after the browser is done
LISTEN_WAIT = 5.0


@dataclasses.dataclass
class LoginRun:
    scenario: str
    grant: str
    port: int
    login: Login
    url: str = ""
    exit_code: int | None = None        # None: still running at the end (killed)
    output: str = ""
    listening_while_waiting: set[str] = dataclasses.field(default_factory=set)
    listening_after: set[str] = dataclasses.field(default_factory=set)
    requests: list[str] = dataclasses.field(default_factory=list)            # browser request URLs
    responses: list[tuple[str, int, dict[str, str]]] = dataclasses.field(default_factory=list)
    markup_rendered: bool = False
    final_text: str = ""
    token_file: Path | None = None
    token_file_text: str = ""
    token_file_mode: int | None = None
    token_dir_mode: int | None = None
    note: str = ""

    @property
    def issued(self) -> list[str]:
        return self.login.issued

    def carried_on(self) -> list[str]:
        """What the client did with what it was given: empty when it stopped."""
        done = []
        if self.exit_code == 0:
            done.append("exited 0")
        for token in self.issued:
            if self.login.api_calls_with(token):
                done.append("called the API with the token it was given")
            if token and token in self.token_file_text:
                done.append(f"saved the token in {self.token_file}")
        if self.grant == "pkce" and self.scenario in ("forged_state", "missing_state", "replayed_state") \
                and self.login.token_requests():
            done.append("redeemed the code at the token endpoint")
        return done

    def describe(self) -> str:
        status = "still running (killed)" if self.exit_code is None else f"exit status {self.exit_code}"
        tail = " ".join(self.output.split())[-200:]
        return f"{status}; output ends {tail!r}" + (f"; {self.note}" if self.note else "")


class _Output:
    """Reads the client's output in a thread; answers the prompt script as prompts appear."""

    def __init__(self, fd_or_file: Any, prompts: list[tuple[str, str]], answer_fd: int | None) -> None:
        self.text = ""
        self._prompts = prompts
        self._answer_fd = answer_fd
        self._pos = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(fd_or_file,), daemon=True)
        self._thread.start()

    def _read(self, source: Any) -> None:
        while True:
            try:
                chunk = os.read(source, 4096) if isinstance(source, int) else source.read1(4096)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.text += chunk.decode("utf-8", "replace")
                while self._prompts and self._answer_fd is not None:
                    match = re.search(self._prompts[0][0], self.text[self._pos:])
                    if not match:
                        break
                    self._pos += match.end()
                    os.write(self._answer_fd, (self._prompts.pop(0)[1] + "\n").encode())

    def join(self) -> None:
        self._thread.join(timeout=2)


def _values(profile: ClientProfile, idp_base: str, client_id: str, port: int, home: Path, grant: str) -> dict:
    return {"environment": idp_base, "client_id": client_id, "port": str(port),
            "config": str(home / ".gc" / "config.toml"), "https": "true" if profile.https else "false",
            "grant": grant, "home": str(home), "python": sys.executable}


def _env(profile: ClientProfile, home: Path, urls: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYSCLOUD_", "GCLOGIN_", "CONFORMANCE_"))}
    env["HOME"] = str(home)
    env["GENESYSCLOUD_BROWSER"] = (f"{shlex.quote(sys.executable)} -m gclogin_conformance.client.hand_over "
                                   f"{shlex.quote(str(urls))}") if profile.browser == "env" else ""
    return env


def _wait(predicate, timeout: float, page=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.05)
    return bool(predicate())


def run_login(profile: ClientProfile, idp: AdversarialIdp, idp_base: str, client_id: str, port: int,
              browser_instance, person: tuple[str, str], workdir: Path, scenario: str = "normal",
              grant: str = "implicit", replay_state: str = "") -> LoginRun:
    """Start the client, sign in as person, and record what it did; the client is always stopped."""
    from gclogin_conformance.browser import recorded_page

    home = workdir / "home"
    home.mkdir(parents=True, mode=0o700)
    urls = workdir / "urls"
    schemes = ("http", "https")
    login = Login(scenario=scenario, replay_state=replay_state,
                  redirect_bases=tuple(f"{s}://{h}:{port}" for s in schemes for h in ("localhost", "127.0.0.1",
                                                                                        "[::1]")))
    idp.login = login
    values = _values(profile, idp_base, client_id, port, home, grant)
    run = LoginRun(scenario, grant, port, login)
    if profile.token_file:
        run.token_file = Path(fill(profile.token_file, values))
    argv = [fill(arg, values) for arg in profile.command]
    beside = Path(sys.executable).parent / argv[0]  # a console script of the suite's own environment
    if not shutil.which(argv[0]) and beside.exists():
        argv[0] = str(beside)
    prompts = [(expect, fill(answer, values)) for expect, answer in profile.prompts]
    env = _env(profile, home, urls)
    master = None
    if prompts:
        master, slave = pty.openpty()
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=home,
                                start_new_session=True)
        os.close(slave)
        output = _Output(master, prompts, master)
    else:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env, cwd=home, start_new_session=True)
        output = _Output(proc.stdout, [], None)
    try:
        def got_url() -> bool:
            if profile.browser == "env":
                if urls.exists() and urls.read_text().strip():
                    run.url = urls.read_text().splitlines()[0]
            else:
                match = re.search(profile.url_pattern, output.text)
                if match:
                    run.url = match.groupdict().get("url") or match.group(0)
            return bool(run.url) or proc.poll() is not None

        _wait(got_url, URL_WAIT)
        if not run.url:
            run.note = "no authorize URL reached the suite"
            run.exit_code = proc.poll()
            return run
        _wait(lambda: bool(listening_addresses(port)) or proc.poll() is not None, LISTEN_WAIT)
        run.listening_while_waiting = listening_addresses(port)
        with recorded_page(browser_instance) as (page, log):
            try:
                page.goto(run.url)
                if page.query_selector("#username"):
                    page.fill("#username", person[0])
                    page.fill("#password", person[1])
                    page.click("#login")
                _wait(lambda: proc.poll() is not None, SETTLE, page)
                page.wait_for_timeout(200)
                run.markup_rendered = bool(page.query_selector("#cf-markup") or page.query_selector("#cf-img"))
                run.final_text = page.inner_text("body") if page.query_selector("body") else ""
            except Exception as exc:  # the page may fail to load when a client misbehaves: record it
                run.note = f"the browser: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            run.requests = [url for url, _ in log.requests]
            run.responses = list(log.responses)
        _wait(lambda: proc.poll() is not None, 0.5)
        run.listening_after = listening_addresses(port)
        run.exit_code = proc.poll()
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
        proc.wait(timeout=10)
        output.join()
        if master is not None:
            with contextlib.suppress(OSError):
                os.close(master)
        if proc.stdout is not None:
            proc.stdout.close()
        run.output = output.text
        if run.token_file is not None and run.token_file.exists():
            run.token_file_text = run.token_file.read_text(errors="replace")
            run.token_file_mode = run.token_file.stat().st_mode & 0o777
            run.token_dir_mode = run.token_file.parent.stat().st_mode & 0o777
    return run


def new_port() -> int:
    return free_port()
