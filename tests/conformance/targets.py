"""Which implementation the suite checks, chosen from environment variables.

- in-process (default): the suite starts the mock IdP and the web service on 127.0.0.1;
- stack: `CONFORMANCE_IDP_URL` (+ `CONFORMANCE_WEB_URL`) name a running mock IdP and
  web service, e.g. compose's `http://idp:8081` and `http://web:8080`; driven with plain
  HTTP, no browser;
- real-org: `GENESYSCLOUD_REGION` + `GENESYSCLOUD_OAUTHCLIENT_ID`/`_SECRET` (a
  client-credentials client) and optionally `CONFORMANCE_IMPLICIT_CLIENT_ID`: only the
  tests that need no person at a login page run.

Client-side requirements are always checked against our client (service/).
`target_from_env` is pure: the conftest reads os.environ once and passes it in.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Literal

Kind = Literal["in-process", "stack", "real-org"]


class TargetError(ValueError):
    """The CONFORMANCE_* / GENESYSCLOUD_* variables do not describe one target."""


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    kind: Kind
    login_url: str | None = None     # authorization server base (None: started by the suite)
    api_url: str | None = None
    web_url: str | None = None
    client_id: str | None = None      # client credentials (real org)
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    implicit_client_id: str | None = None

    @property
    def is_mock(self) -> bool:
        """The server is our mock IdP, whose seed and admin API the suite may use."""
        return self.kind != "real-org"

    @property
    def has_internals(self) -> bool:
        """The mock runs in this process, so its store and clock can be inspected."""
        return self.kind == "in-process"

    def describe(self) -> str:
        if self.kind == "in-process":
            return "in-process (mock IdP + web service started by the suite on 127.0.0.1)"
        if self.kind == "stack":
            return f"stack (IdP {self.login_url}, web {self.web_url or 'none'})"
        return f"real org ({self.login_url}, {self.api_url})"


def _base_url(name: str, value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise TargetError(f"{name}={value!r}: expected a base URL such as http://idp:8081")
    return value.strip().rstrip("/")


def target_from_env(env: Mapping[str, str]) -> TargetSpec:
    """The target the variables describe; TargetError names the variable that is wrong."""
    idp = env.get("CONFORMANCE_IDP_URL", "").strip()
    web = env.get("CONFORMANCE_WEB_URL", "").strip()
    region = env.get("GENESYSCLOUD_REGION", "").strip()
    if web and not idp:
        raise TargetError("CONFORMANCE_WEB_URL is set but CONFORMANCE_IDP_URL is not: "
                          "a stack target needs the IdP URL")
    if idp:
        login = _base_url("CONFORMANCE_IDP_URL", idp)
        return TargetSpec("stack", login_url=login, api_url=login,
                          web_url=_base_url("CONFORMANCE_WEB_URL", web) if web else None)
    if region:
        from service.environments import resolve
        from service.errors import GcloginError

        missing = [n for n in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET")
                   if not env.get(n, "").strip()]
        if missing:
            raise TargetError(f"GENESYSCLOUD_REGION is set but {', '.join(missing)} is not: "
                              "a real-org target needs a client-credentials client")
        try:
            endpoints = resolve(region)
        except GcloginError as exc:
            raise TargetError(f"GENESYSCLOUD_REGION={region!r}: {exc}") from None
        return TargetSpec("real-org", login_url=endpoints.login_url, api_url=endpoints.api_url,
                          client_id=env["GENESYSCLOUD_OAUTHCLIENT_ID"].strip(),
                          client_secret=env["GENESYSCLOUD_OAUTHCLIENT_SECRET"].strip(),
                          implicit_client_id=env.get("CONFORMANCE_IMPLICIT_CLIENT_ID", "").strip() or None)
    return TargetSpec("in-process")
