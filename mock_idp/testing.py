"""Test seams: build an app on a private store, fix the clock, issue tokens directly.

Importable without starting a server; nothing here is used by the running mock. For a
real server on a port (any test suite, any language) see the `genesys_mock` pytest
fixture (pytest_plugin.py, live_server.py) and the /mock/ control API (control.py).

    clock = FrozenClock()
    app = create_app(app_config(tmp_path, CLOCK=clock))
    token = issue_token(app, DEMO_CC_CLIENT_ID)
    clock.advance(86400)        # now the token is expired
"""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask

from .client_spec import ClientSpec
from .config import default_seed_path
from .extension import KEY, MockIdp
from .seed import Seed, load_seed

__all__ = ["FrozenClock", "LoginForm", "add_redirect_uris", "app_config", "demo_seed", "issue_token",
           "parse_login_form"]

_GRANT_OF = {"CLIENT-CREDENTIALS": "client_credentials", "TOKEN": "implicit",
             "CODE": "authorization_code"}


class FrozenClock:
    """A clock for CONFIG["CLOCK"] that moves only when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def app_config(directory: Path | str, **overrides: Any) -> dict[str, Any]:
    """Config for create_app with a store in `directory` (e.g. pytest's tmp_path)."""
    return {"TESTING": True, "DB": str(Path(directory) / "mock_idp.sqlite3"), **overrides}


def demo_seed() -> Seed:
    """The shipped demo seed, passwords and secrets included."""
    return load_seed(default_seed_path())


def issue_token(app: Flask, client_id: str, user_id: str | None = None, *,
                expires_in: int | None = None) -> str:
    """An access token issued as if `client_id` (for `user_id`) had just logged in."""
    mock: MockIdp = app.extensions[KEY]
    client = mock.store.get_client(client_id)
    if client is None:
        raise LookupError(f"no client {client_id!r} in the mock's store")
    if user_id is not None and mock.store.get_user(user_id) is None:
        raise LookupError(f"no user {user_id!r} in the mock's store")
    return mock.store.issue_token(client, user_id=user_id, grant_type=_GRANT_OF[client.grant_type],
                                  scope=" ".join(client.scope),
                                  expires_in=client.validity if expires_in is None else expires_in)


def add_redirect_uris(app: Flask, *uris: str, grant_types: tuple[str, ...] = ("TOKEN", "CODE")) -> None:
    """Register more redirect URIs on every client of those grants (the browser ones): for
    a web app under test whose callback names a port or path known only at run time."""
    mock: MockIdp = app.extensions[KEY]
    for client in mock.store.list_clients():
        if client.grant_type in grant_types:
            added = tuple(u for u in uris if u not in client.redirect_uris)
            spec = ClientSpec(name=client.name, description=client.description, grant_type=client.grant_type,
                              redirect_uris=client.redirect_uris + added, scope=client.scope,
                              validity=client.validity, roles=client.roles)
            mock.store.update_client(client.id, spec)


class LoginForm(HTMLParser):
    """The login page's first form (action, every input's name and value) and the error.

    The page's second form is "Cancel": its action and hidden fields are in
    `cancel_action` and `cancel_fields`, never mixed into `action` and `fields`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.cancel_action: str | None = None
        self.cancel_fields: dict[str, str] = {}
        self.error: str | None = None
        self._in_error = False
        self._forms = 0
        self._target: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._forms += 1
            if self._forms == 1:
                self.action, self._target = a.get("action"), self.fields
            elif a.get("id") == "cancel-form":
                self.cancel_action, self._target = a.get("action"), self.cancel_fields
            else:
                self._target = None
        elif tag == "input" and a.get("name") and self._target is not None:
            self._target[a["name"] or ""] = a.get("value") or ""
        elif a.get("id") == "error":
            self._in_error = True

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.error = (self.error or "") + data

    def handle_endtag(self, tag: str) -> None:
        self._in_error = False
        if tag == "form":
            self._target = None


def parse_login_form(html: str) -> LoginForm:
    parser = LoginForm()
    parser.feed(html)
    return parser
