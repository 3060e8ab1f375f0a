"""A client-mode session: the adversarial IdP, one headless chromium and the logins the
checks ask for, each run once and shared (a check asks for a scenario, not a process)."""
from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

from gclogin_conformance.client.harness import LoginRun, run_login
from gclogin_conformance.client.idp_middleware import AdversarialIdp
from gclogin_conformance.client.profile import ClientProfile
from gclogin_conformance.servers import free_port, wsgi_server

GRANT_TYPES = {"implicit": "TOKEN", "pkce": "CODE"}


class ClientSession:
    def __init__(self, profile: ClientProfile, idp, adversary: AdversarialIdp, browser_instance,
                 workdir: Path) -> None:
        self.profile, self.idp, self.adversary, self.browser = profile, idp, adversary, browser_instance
        self.workdir = workdir
        self._runs: dict[tuple[str, str, int], LoginRun] = {}
        self._count = itertools.count()

    def grant(self, wanted: str | None = None) -> str | None:
        """The grant a check runs with: `wanted` if the profile offers it, else its first."""
        if wanted is None:
            return self.profile.grants[0]
        return wanted if wanted in self.profile.grants else None

    def run(self, scenario: str = "normal", grant: str | None = None, n: int = 0) -> LoginRun:
        grant = grant or self.profile.grants[0]
        key = (scenario, grant, n)
        if key not in self._runs:
            replay = self.run("normal", grant).login.sent_state if scenario == "replayed_state" else ""
            port = free_port()
            redirects = [f"{s}://{h}:{port}" for s in ("http", "https") for h in ("localhost", "127.0.0.1")]
            client = self.idp.create_client(GRANT_TYPES[grant], redirects)
            user = self.idp.user
            self._runs[key] = run_login(self.profile, self.adversary, self.idp.base_url, client["id"], port,
                                        self.browser, (user["username"], user["password"]),
                                        self.workdir / f"{next(self._count):02d}-{scenario}-{grant}-{n}",
                                        scenario=scenario, grant=grant, replay_state=replay)
        return self._runs[key]


@contextlib.contextmanager
def client_session(profile: ClientProfile, workdir: Path) -> Iterator[ClientSession]:
    from mock_idp import create_app

    from gclogin_conformance.browser import browser
    from gclogin_conformance.idp_driver import Idp
    from gclogin_conformance.plugin import mock_spec

    adversary = AdversarialIdp(create_app({"DB": str(workdir / "idp.sqlite3")}))
    quiet = logging.getLogger("werkzeug")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the mock's request log would show codes and states
    with contextlib.ExitStack() as stack:
        stack.callback(quiet.setLevel, level)
        base = stack.enter_context(wsgi_server(adversary))
        instance = stack.enter_context(browser())
        yield ClientSession(profile, Idp(mock_spec(base, internals=False)), adversary, instance, workdir)
