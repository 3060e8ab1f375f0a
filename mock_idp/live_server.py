"""The mock on a real loopback port in this process, with its control seams as methods.

What the pytest fixture `genesys_mock` yields (pytest_plugin.py); usable without pytest:

    with LiveMock.start(tmp_dir) as mock:
        token = mock.issue_token(mock.client("CLIENT-CREDENTIALS").id)
        requests.get(mock.base_url + "/api/v2/tokens/me", headers={"Authorization": "Bearer " + token})

A werkzeug server thread on 127.0.0.1 (the port bound by the server itself, so it is
ours), a private store in the given directory, a frozen clock, and the control API
switched on with a random secret (`control_token`) for code in other languages.
Each method calls the control state directly, with no HTTP round trip (`make bench`: reset plus one token about 3.4 ms).
"""
from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from . import create_app
from .control import issue_token
from .control_rules import parse_fault, parse_next_login
from .control_state import ControlState
from .extension import KEY, MockIdp
from .seed import SeedClient, SeedUser, load_seed
from .testing import FrozenClock, app_config


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request on the test's stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LiveMock:
    def __init__(self, directory: Path | str, seed: Path | str | None = None, host: str = "127.0.0.1") -> None:
        self.clock = FrozenClock()
        self._start = self.clock.now
        self.control_token = secrets.token_urlsafe(24)
        config = app_config(directory, CLOCK=self.clock, CONTROL_TOKEN=self.control_token)
        if seed is not None:
            config["SEED"] = str(seed)
        self.app = create_app(config)
        mock: MockIdp = self.app.extensions[KEY]
        assert mock.control is not None
        self._control: ControlState = mock.control
        parsed = load_seed(mock.settings.seed)
        self.users: tuple[SeedUser, ...] = parsed.users
        self.clients: tuple[SeedClient, ...] = parsed.clients
        self._server = make_server(host, 0, self.app, threaded=True, request_handler=_QuietHandler)
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{self._server.socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="genesys-mock", daemon=True)
        self._thread.start()

    @classmethod
    @contextlib.contextmanager
    def start(cls, directory: Path | str, seed: Path | str | None = None) -> Iterator[LiveMock]:
        mock = cls(directory, seed)
        try:
            yield mock
        finally:
            mock.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    # -- the seeds ------------------------------------------------------------------
    def user(self, username: str) -> SeedUser:
        """A seeded user by username (KeyError names what there is)."""
        for user in self.users:
            if user.username == username:
                return user
        raise KeyError(f"no seeded user {username!r}; there are {[u.username for u in self.users]}")

    def client(self, grant_type: str) -> SeedClient:
        """The first seeded client of a grant type: CLIENT-CREDENTIALS, TOKEN or CODE."""
        for client in self.clients:
            if client.authorized_grant_type == grant_type:
                return client
        raise KeyError(f"no seeded client of grant type {grant_type!r}")

    # -- seams ----------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the seed, the clock back to its start (the fixture does this per test)."""
        self._control.reset()
        self.clock.now = self._start

    def issue_token(self, client_id: str, user: str | None = None, *, expires_in: int | None = None,
                    scope: str | list[str] | None = None) -> str:
        """An access token of the client (for a user id or username), as if just issued."""
        order: dict[str, Any] = {"client_id": client_id, "user": user, "expires_in": expires_in, "scope": scope}
        with self.app.app_context():
            return issue_token(self._control, {k: v for k, v in order.items() if v is not None})["access_token"]

    @property
    def requests(self) -> list[dict[str, Any]]:
        """What the mock received since the reset, oldest first, secrets redacted."""
        return self._control.requests()

    def next_login(self, who: str, *, count: int = 1, client_id: str | None = None) -> None:
        """Script the next sign-in(s): a user id or username, "deny", or "error=<code>"."""
        body: dict[str, Any] = {"count": count, "client_id": client_id}
        body["outcome" if who == "deny" or who.startswith("error=") else "user"] = who
        login = parse_next_login({k: v for k, v in body.items() if v is not None})
        if login.user is not None and self._control.find_user(login.user) is None:
            raise ValueError(f"user: no user with id or username {login.user!r}")
        self._control.add_login(login)

    def fail(self, path: str | None = None, *, kind: str = "status", count: int = 1,
             method: str | None = None, **options: Any) -> None:
        """Fault the next `count` requests to `path`: kind status (status=503, error=...,
        message=...), delay (seconds=...), drop, or rate_limit (retry_after=...)."""
        body = {"kind": kind, "count": count, "path": path, "method": method, **options}
        self._control.add_fault(parse_fault({k: v for k, v in body.items() if v is not None}))
