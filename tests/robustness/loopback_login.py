"""One CLI loopback login (service.loopback.browser_login) running in a thread."""
from __future__ import annotations

import queue
import threading
from urllib.parse import parse_qs, urlsplit

from service import environments, loopback
from service.profiles import GrantType

WAIT = 15.0


class LoopbackLogin:
    """Starts the login; `.authorize_url`, `.redirect_uri`, `.state`; `.outcome()` at the end."""

    def __init__(self, grant: GrantType, client_id: str, idp_url: str, timeout: float = 60.0,
                 redirect_uri: str = "http://127.0.0.1:0") -> None:
        self.lines: list[str] = []
        urls: queue.Queue[str] = queue.Queue()
        self._done: queue.Queue[object] = queue.Queue()

        def echo(line: str) -> None:
            self.lines.append(line)
            if "/oauth/authorize?" in line:
                urls.put(line[line.index("http", line.index(": ")):])

        def run() -> None:
            try:
                self._done.put(loopback.browser_login(
                    grant=grant, client_id=client_id, redirect_uri=redirect_uri,
                    endpoints=environments.resolve(idp_url), timeout=timeout,
                    open_browser=False, echo=echo))
            except BaseException as exc:  # handed to the test thread
                self._done.put(exc)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        self.authorize_url = urls.get(timeout=WAIT)
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.authorize_url).query).items()}
        self.redirect_uri: str = query["redirect_uri"]
        self.state: str = query["state"]
        self.port = urlsplit(self.redirect_uri).port

    def finished(self) -> bool:
        return not self._done.empty()

    def outcome(self, timeout: float = WAIT) -> object:
        result = self._done.get(timeout=timeout)
        self.thread.join(timeout=WAIT)
        return result
