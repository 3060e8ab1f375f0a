"""What a run checks: a server (any authorization server, or this project's mock), a web
service, or a client described by a profile.

`server_spec` builds a ServerSpec from a base URL and a credentials TOML file; both are
pure (no I/O but reading the named file) so bad input fails before anything starts, with
an error naming the file and the field.
"""
from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

Mode = Literal["self-check", "server", "client"]


class TargetError(ValueError):
    """The command line, variables or credentials file do not describe one target."""


@dataclasses.dataclass(frozen=True)
class Client:
    id: str
    secret: str = dataclasses.field(default="", repr=False)
    redirect_uri: str = ""


@dataclasses.dataclass(frozen=True)
class User:
    username: str
    password: str = dataclasses.field(repr=False)
    #: CSS selectors of a login form that isn't the mock's (filled in headless chromium)
    selectors: Mapping[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class ServerSpec:
    """An authorization server (login URL) and its API, with what the suite may use there."""

    login_url: str
    api_url: str
    authorize_path: str = "/oauth/authorize"
    token_path: str = "/oauth/token"
    cc_client: Client | None = None
    implicit_client: Client | None = None
    pkce_client: Client | None = None
    user: User | None = None
    admin: Client | None = None
    #: this project's mock (its seed and admin API): the mock-only group runs
    mock: bool = False
    #: the mock runs in this process (its store and clock can be reconfigured)
    internals: bool = False
    #: a test seam of servers the suite's tests start: POST advance=SECONDS moves their clock
    clock_url: str = ""

    def describe(self) -> str:
        kind = "in-process mock" if self.internals else ("gclogin mock" if self.mock else "authorization server")
        api = f", API {self.api_url}" if self.api_url != self.login_url else ""
        return f"{kind} {self.login_url}{api}"


@dataclasses.dataclass(frozen=True)
class RunSpec:
    mode: Mode
    server: ServerSpec | None = None          # None in self-check: the in-process mock
    web_url: str | None = None                 # a running web service (None: in-process in self-check)
    client_profile: str | None = None          # client mode: the profile TOML
    client_vars: Mapping[str, str] = dataclasses.field(default_factory=dict)  # extra placeholders

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        raw = json.loads(text)
        server = raw.get("server")
        if server:
            for key in ("cc_client", "implicit_client", "pkce_client", "admin"):
                if server.get(key):
                    server[key] = Client(**server[key])
            if server.get("user"):
                server["user"] = User(**server["user"])
            raw["server"] = ServerSpec(**server)
        return cls(**raw)


def base_url(name: str, value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise TargetError(f"{name}={value!r}: expected a base URL such as http://idp:8081")
    return value.strip().rstrip("/")


def _table(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TargetError(f"{source}: [{key}] must be a table")
    return value


def _string(table: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise TargetError(f"{where}.{key}: expected a non-empty string, got {value!r}")
    return value.strip()


def _client(data, key, source, secret: bool, redirect: bool) -> Client | None:
    table = _table(data, key, source)
    if table is None:
        return None
    where = f"{source}: [{key}]"
    return Client(id=_string(table, "id", where), secret=_string(table, "secret", where) if secret else "",
                  redirect_uri=_redirect(table, where) if redirect else "")


def _redirect(table, where) -> str:
    uri = _string(table, "redirect_uri", where)
    if urlsplit(uri).scheme not in ("http", "https"):
        raise TargetError(f"{where}.redirect_uri={uri!r}: expected a registered http(s) redirect URI")
    return uri


def credentials_from_toml(text: str, source: str) -> dict[str, Any]:
    """The ServerSpec fields a credentials file gives; TargetError names file and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{source}: not valid TOML: {exc}") from None
    known = {"client_credentials", "implicit", "pkce", "user", "admin", "endpoints"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise TargetError(f"{source}: unknown table(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}")
    fields: dict[str, Any] = {
        "cc_client": _client(data, "client_credentials", source, secret=True, redirect=False),
        "implicit_client": _client(data, "implicit", source, secret=False, redirect=True),
        "pkce_client": _client(data, "pkce", source, secret=False, redirect=True),
        "admin": _client(data, "admin", source, secret=True, redirect=False),
    }
    user = _table(data, "user", source)
    if user is not None:
        where = f"{source}: [user]"
        selectors = _table(user, "selectors", where)
        if selectors is not None:
            missing = [k for k in ("username", "password", "submit") if not isinstance(selectors.get(k), str)]
            if missing:
                raise TargetError(f"{where}.selectors: missing {', '.join(missing)} (CSS selectors)")
        fields["user"] = User(_string(user, "username", where), _string(user, "password", where),
                              dict(selectors) if selectors else None)
    endpoints = _table(data, "endpoints", source)
    if endpoints is not None:
        for key, field in (("authorize", "authorize_path"), ("token", "token_path")):
            if key in endpoints:
                path = _string(endpoints, key, f"{source}: [endpoints]")
                if not path.startswith("/"):
                    raise TargetError(f"{source}: [endpoints].{key}={path!r}: expected a path such as /oauth/token")
                fields[field] = path
    return fields


def mock_seed_credentials(seed: Mapping[str, Any]) -> dict[str, Any]:
    """The bundled mock's demo seed as credentials: its admin client and first user."""
    admin = next(c for c in seed["clients"] if "admin" in c.get("roles", []))
    user = seed["users"][0]
    cc = Client(admin["id"], admin["secret"])
    return {"cc_client": cc, "admin": cc, "user": User(user["username"], user["password"]), "mock": True}


def server_spec(login_url: str, api_url: str | None = None, credentials: Path | None = None,
                mock: bool = False, seed: Mapping[str, Any] | None = None, clock_url: str = "") -> ServerSpec:
    """A server target from the command line (`server URL [--api-url] [--credentials] [--mock]`)."""
    login = base_url("URL", login_url)
    fields: dict[str, Any] = {}
    if mock:
        if seed is None:
            raise TargetError("--mock needs the mock's seed")
        fields.update(mock_seed_credentials(seed))
    if credentials is not None:
        try:
            text = Path(credentials).read_text(encoding="utf-8")
        except OSError as exc:
            raise TargetError(f"--credentials {credentials}: {exc.strerror}") from None
        fields.update({k: v for k, v in credentials_from_toml(text, str(credentials)).items() if v is not None})
    if not fields.get("cc_client"):
        raise TargetError("a server run needs a client-credentials client: give --credentials FILE.toml with "
                          "[client_credentials] id and secret (or --mock for this project's mock)")
    return ServerSpec(login_url=login, api_url=base_url("--api-url", api_url) if api_url else login,
                      clock_url=clock_url, **fields)


def spec_from_env(env: Mapping[str, str]) -> RunSpec:
    """Self-check mode's target from CONFORMANCE_IDP_URL/CONFORMANCE_WEB_URL (compose's stack)."""
    idp = env.get("CONFORMANCE_IDP_URL", "").strip()
    web = env.get("CONFORMANCE_WEB_URL", "").strip()
    if web and not idp:
        raise TargetError("CONFORMANCE_WEB_URL is set but CONFORMANCE_IDP_URL is not: "
                          "a stack target needs the IdP URL")
    if not idp:
        return RunSpec("self-check")
    from gclogin_conformance.idp_driver import default_seed

    return RunSpec("self-check", server=server_spec(base_url("CONFORMANCE_IDP_URL", idp), mock=True,
                                                   seed=default_seed()),
                   web_url=base_url("CONFORMANCE_WEB_URL", web) if web else None)
