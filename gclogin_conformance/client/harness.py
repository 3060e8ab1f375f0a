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
import socket
import ssl
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
LOGIN_TIMEOUT = 60  # {timeout} of a login the person completes
SHORT_TIMEOUT = 3   # {timeout} of the login that never gets its callback (R19)
GIVE_UP_GRACE = 5.0  # beyond {timeout}, for the client to give up and close its port
CC_WAIT = 20.0      # for a client-credentials login to finish


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
    certificate: bytes = b""            # DER of the certificate an HTTPS loopback served
    timeout: float = LOGIN_TIMEOUT      # the {timeout} the client was given
    waited: float = 0.0                 # no_callback: how long the suite waited for it to give up
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


def _values(profile: ClientProfile, idp_base: str, client_id: str, port: int, home: Path, grant: str,
            https: bool = False, timeout: float = LOGIN_TIMEOUT, client_secret: str = "") -> dict:
    if profile.https_values:
        shown = profile.https_values[1 if https else 0]
    else:
        shown = "true" if profile.https else "false"
    return {"environment": idp_base, "client_id": client_id, "client_secret": client_secret, "port": str(port),
            "config": str(home / ".gc" / "config.toml"), "https": shown, "grant": grant, "timeout": f"{timeout:g}",
            "home": str(home), "python": sys.executable}


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


class _Process:
    """The client under test, started in its own session (a pty when it has a prompt script)."""

    def __init__(self, argv: list[str], prompts: list[tuple[str, str]], env: dict[str, str], home: Path) -> None:
        beside = Path(sys.executable).parent / argv[0]  # a console script of the suite's own environment
        if not shutil.which(argv[0]) and beside.exists():
            argv[0] = str(beside)
        self.master: int | None = None
        if prompts:
            self.master, slave = pty.openpty()
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=home,
                                         start_new_session=True)
            os.close(slave)
            self.output = _Output(self.master, prompts, self.master)
        else:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, env=env, cwd=home, start_new_session=True)
            self.output = _Output(self.proc.stdout, [], None)

    def stop(self) -> str:
        """Kill what is left of it, children included (its process group: until it is reaped,
        even as a zombie, its pid names the group); its output."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 9)
        self.proc.wait(timeout=10)
        self.output.join()
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.close(self.master)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.output.text


def served_certificate(port: int) -> bytes:
    """The DER certificate the loopback serves (no verification: it is self-signed), or b""."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    for host in ("127.0.0.1", "::1"):
        with contextlib.suppress(OSError):
            with socket.create_connection((host, port), timeout=5) as raw, \
                    context.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.getpeercert(binary_form=True) or b""
    return b""


def _record_file(run: LoginRun) -> None:
    if run.token_file is not None and run.token_file.exists():
        run.token_file_text = run.token_file.read_text(errors="replace")
        run.token_file_mode = run.token_file.stat().st_mode & 0o777
        run.token_dir_mode = run.token_file.parent.stat().st_mode & 0o777


def run_login(profile: ClientProfile, idp: AdversarialIdp, idp_base: str, client_id: str, port: int,
              browser_instance, person: tuple[str, str], workdir: Path, scenario: str = "normal",
              grant: str = "implicit", replay_state: str = "", https: bool = False) -> LoginRun:
    """Start the client, sign in as person, and record what it did; the client is always stopped.

    scenario "no_callback": nobody signs in; the client was given a short {timeout} and the
    run records whether it gave up and closed its port. https: the loopback serves HTTPS
    (the profile's {https} on) and the run keeps the certificate it served."""
    from gclogin_conformance.browser import recorded_page

    home = workdir / "home"
    home.mkdir(parents=True, mode=0o700)
    urls = workdir / "urls"
    schemes = ("http", "https")
    login = Login(scenario=scenario, replay_state=replay_state, other_issuer=idp_base + "/other-issuer",
                  redirect_bases=tuple(f"{s}://{h}:{port}" for s in schemes for h in ("localhost", "127.0.0.1",
                                                                                        "[::1]")))
    idp.login = login
    timeout = SHORT_TIMEOUT if scenario == "no_callback" else LOGIN_TIMEOUT
    values = _values(profile, idp_base, client_id, port, home, grant, https=https, timeout=timeout)
    run = LoginRun(scenario, grant, port, login, timeout=timeout)
    if profile.token_file:
        run.token_file = Path(fill(profile.token_file, values))
    prompts = [(expect, fill(answer, values)) for expect, answer in profile.prompts]
    client = _Process([fill(arg, values) for arg in profile.command], prompts, _env(profile, home, urls), home)
    proc, output = client.proc, client.output
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

        started = time.monotonic()
        _wait(got_url, URL_WAIT)
        if not run.url:
            run.note = "no authorize URL reached the suite"
            run.exit_code = proc.poll()
            return run
        _wait(lambda: bool(listening_addresses(port)) or proc.poll() is not None, LISTEN_WAIT)
        run.listening_while_waiting = listening_addresses(port)
        if https and run.listening_while_waiting:
            run.certificate = served_certificate(port)
        if scenario == "no_callback":
            _wait(lambda: proc.poll() is not None, max(0.0, started + timeout + GIVE_UP_GRACE - time.monotonic()))
            run.waited = time.monotonic() - started
        else:
            _browse(run, browser_instance, recorded_page, person, proc)
        _wait(lambda: proc.poll() is not None, 0.5)
        run.listening_after = listening_addresses(port)
        run.exit_code = proc.poll()
    finally:
        run.output = client.stop()
        _record_file(run)
    return run


def _browse(run: LoginRun, browser_instance, recorded_page, person: tuple[str, str], proc) -> None:
    """The person opens the authorize URL, signs in and follows the redirect back."""
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


def run_client_credentials(profile: ClientProfile, idp: AdversarialIdp, idp_base: str, client_id: str,
                           secret: str, workdir: Path) -> LoginRun:
    """Run the profile's [client_credentials] login to its end (no browser, no port)."""
    home = workdir / "home"
    home.mkdir(parents=True, mode=0o700)
    login = Login(scenario="client_credentials")
    idp.login = login
    values = _values(profile, idp_base, client_id, 0, home, "client_credentials", client_secret=secret)
    run = LoginRun("client_credentials", "client_credentials", 0, login)
    if profile.token_file:
        run.token_file = Path(fill(profile.token_file, values))
    env = {**_env(profile, home, workdir / "urls"), **{k: fill(v, values) for k, v in profile.cc_env}}
    prompts = [(expect, fill(answer, values)) for expect, answer in profile.cc_prompts]
    client = _Process([fill(arg, values) for arg in profile.cc_command], prompts, env, home)
    try:
        _wait(lambda: client.proc.poll() is not None, CC_WAIT)
        run.exit_code = client.proc.poll()
    finally:
        run.output = client.stop()
        _record_file(run)
    return run


def new_port() -> int:
    return free_port()
