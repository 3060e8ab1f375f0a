"""An HTTP client standing in for the browser: follows the login, submits the form, runs the relay."""
from __future__ import annotations

import queue
import subprocess
import sys
import threading
import warnings
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from devtools.servers import REPO

URL_PREFIX = "Open this URL in your browser to log in: "


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None and (a.get("method") or "").lower() == "post":
            self.action, self._in_form = a.get("action") or "", True
        elif tag == "input" and self._in_form and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


class FakeBrowser:
    def __init__(self) -> None:
        self.session = requests.Session()

    def sign_in(self, authorize_url: str, username: str, password: str) -> str:
        """Load the IdP's login page, submit it, return the redirect Location (not followed)."""
        page = self.session.get(authorize_url, allow_redirects=False, timeout=10)
        assert page.status_code == 200, (page.status_code, page.text[:300])
        form = _Form()
        form.feed(page.text)
        assert form.action is not None, "no login form"
        fields = {**form.fields, "username": username, "password": password}
        resp = self.session.post(urljoin(page.url, form.action), data=fields, allow_redirects=False, timeout=10)
        assert resp.status_code in (302, 303), (resp.status_code, resp.text[:300])
        return resp.headers["Location"]

    def deliver(self, location: str) -> requests.Response:
        """What a browser does at the loopback redirect: GET it; for a fragment, run the relay POST."""
        parts = urlsplit(location)
        target = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the loopback's self-signed certificate
            first = self.session.get(target, timeout=10, verify=False)
            if not parts.fragment:
                return first
            assert "history.replaceState" in first.text
            return self.session.post(target, data={"fragment": parts.fragment}, timeout=10, verify=False)


class CliProcess:
    """`gclogin ...` in a subprocess, with its stderr read line by line (bounded waits)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "service.cli", *args], cwd=REPO, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        self.out: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._out_reader = threading.Thread(target=lambda: self.out.extend(self.proc.stdout), daemon=True)
        self._out_reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)

    def login_url(self, timeout: float = 30) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            if line.startswith(URL_PREFIX):
                return line[len(URL_PREFIX):].strip()

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        self._out_reader.join(timeout=10)
        return self.proc.returncode, "".join(self.out), "".join(self.err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
