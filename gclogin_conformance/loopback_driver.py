"""Run one CLI loopback login (service.loopback.browser_login) in a thread and play the browser.

The "browser" is plain `requests`: it reads the authorize URL the client prints,
then answers on the redirect URI exactly as an authorization server's redirect would.
The client's check of the authorize request before the browser opens (service.preflight)
is skipped: there is no authorization server behind the endpoints these checks give.
"""
from __future__ import annotations

import json
import queue
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from werkzeug.wrappers import Request, Response

from service import environments, loopback
from service.profiles import GrantType
from gclogin_conformance.servers import wsgi_server

WAIT = 15.0


class LoopbackLogin:
    """A login running in a background thread; `.result()` is its token or exception."""

    def __init__(self, grant: GrantType, redirect_uri: str, endpoints, timeout: float = 20.0) -> None:
        self.lines: list[str] = []
        self._url: queue.Queue[str] = queue.Queue()
        self._done: queue.Queue[object] = queue.Queue()

        def echo(line: str) -> None:
            self.lines.append(line)
            if "http" in line and "/oauth/authorize?" in line:
                self._url.put(line[line.index("http", line.index(": ")):])

        def run() -> None:
            try:
                self._done.put(loopback.browser_login(
                    grant=grant, client_id="conformance-client", redirect_uri=redirect_uri,
                    endpoints=endpoints, timeout=timeout, open_browser=False, echo=echo,
                    preflight=None))  # this driver is the browser and the IdP: nothing to check first
            except BaseException as exc:  # handed to the test thread
                self._done.put(exc)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        self.authorize_url = self._url.get(timeout=WAIT)
        self.query = {k: v[0] for k, v in parse_qs(urlsplit(self.authorize_url).query).items()}
        self.redirect_uri = self.query["redirect_uri"]
        self.state = self.query["state"]

    def get(self, query: dict[str, str] | None = None, **kw) -> requests.Response:
        url = self.redirect_uri + "/" + ("?" + urlencode(query) if query else "")
        return requests.get(url, timeout=WAIT, verify=False, allow_redirects=False, **kw)

    def relay(self, fragment: dict[str, str]) -> requests.Response:
        """What the relay page's script does: POST the fragment same-origin."""
        return requests.post(self.redirect_uri + "/", data={"fragment": urlencode(fragment)},
                             timeout=WAIT, verify=False, allow_redirects=False)

    def result(self):
        outcome = self._done.get(timeout=WAIT + 30)
        self.thread.join(timeout=WAIT)
        return outcome

    def port_closed(self) -> bool:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                requests.get(self.redirect_uri + "/", timeout=2, verify=False)
            except requests.ConnectionError:
                return True
            time.sleep(0.1)
        return False


class FakeTokenEndpoint:
    """A token endpoint on 127.0.0.1 recording the PKCE exchanges it receives."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []

    def __enter__(self):
        @Request.application
        def app(request: Request) -> Response:
            self.forms.append(dict(request.form))
            return Response(json.dumps({"access_token": "pkce-access-token-123", "token_type": "bearer",
                                        "expires_in": 600}), content_type="application/json",
                            headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

        self._cm = wsgi_server(app)
        self.endpoints = environments.resolve(self._cm.__enter__())
        return self

    def __exit__(self, *exc) -> None:
        self._cm.__exit__(*exc)
