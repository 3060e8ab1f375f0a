"""A client-mode session: the adversarial IdP, one headless chromium and the logins the
checks ask for, each run once and shared (a check asks for a scenario, not a process).

The IdP's seed adds one client-credentials client whose ID and secret need RFC 6749
§2.3.1's form-urlencoding (':', '%', '+', a space, non-ASCII), for R8."""
from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import tomlkit

from gclogin_conformance.client.harness import LoginRun, run_client_credentials, run_login
from gclogin_conformance.client.idp_middleware import AdversarialIdp
from gclogin_conformance.client.profile import ClientProfile
from gclogin_conformance.servers import free_port, wsgi_server

GRANT_TYPES = {"implicit": "TOKEN", "pkce": "CODE"}
#: a client whose Basic credentials are wrong unless each half is form-urlencoded (R8);
#: a client ID is VSCHAR (printable ASCII), a secret may be any text
AWKWARD_CLIENT = {"id": "cf:client id%41+x", "secret": "s3:cr%65t +é€/="}


def seed_with_awkward_client(seed: dict) -> str:
    """The mock's seed (TOML) with AWKWARD_CLIENT added (pure)."""
    client = {**AWKWARD_CLIENT, "name": "Conformance: awkward client credentials",
              "authorized_grant_type": "CLIENT-CREDENTIALS", "registered_redirect_uri": [], "scope": [],
              "access_token_validity_seconds": 300}
    return tomlkit.dumps({**seed, "clients": [*seed.get("clients", []), client]})


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
        """One login (cached by scenario, grant and n). Scenarios beyond the redirect's bending:
        "https" (the loopback serves HTTPS) and "no_callback" (nobody signs in)."""
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
                                        scenario=scenario, grant=grant, replay_state=replay,
                                        https=scenario == "https" or self.profile.https)
        return self._runs[key]

    def run_client_credentials(self) -> LoginRun:
        """The profile's client-credentials login with AWKWARD_CLIENT (run once)."""
        key = ("client_credentials", "client_credentials", 0)
        if key not in self._runs:
            self._runs[key] = run_client_credentials(
                self.profile, self.adversary, self.idp.base_url, AWKWARD_CLIENT["id"], AWKWARD_CLIENT["secret"],
                self.workdir / f"{next(self._count):02d}-client_credentials")
        return self._runs[key]


@contextlib.contextmanager
def client_session(profile: ClientProfile, workdir: Path) -> Iterator[ClientSession]:
    from mock_idp import create_app

    from gclogin_conformance.browser import browser
    from gclogin_conformance.idp_driver import Idp, default_seed
    from gclogin_conformance.plugin import mock_spec

    seed = workdir / "seed.toml"
    seed.write_text(seed_with_awkward_client(default_seed()), encoding="utf-8")
    adversary = AdversarialIdp(create_app({"DB": str(workdir / "idp.sqlite3"), "SEED": str(seed)}))
    quiet = logging.getLogger("werkzeug")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the mock's request log would show codes and states
    with contextlib.ExitStack() as stack:
        stack.callback(quiet.setLevel, level)
        base = stack.enter_context(wsgi_server(adversary))
        instance = stack.enter_context(browser())
        yield ClientSession(profile, Idp(mock_spec(base, internals=False)), adversary, instance, workdir)
