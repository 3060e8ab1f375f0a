"""The suite's pytest plugin: the run's target, fixtures, and which checks a mode runs.

`gclogin-conformance` passes `--conformance-spec FILE` (a RunSpec as JSON); without it
(tests/conformance in `make test`) the run is the self-check: this project's client, the
mock IdP and the web service, all started in-process.

Each check module says what it judges with GROUP:
- "client": gclogin's own client code, white-box (self-check only);
- "client-profile": any client, by its profile, from outside (client mode; self-check
  runs it against the shipped gclogin profile);
- "server": any authorization server and its API (server mode and self-check);
- "server-mock": checks that need this project's mock (seed, admin API or internals);
- "web": the web service (self-check).
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gclogin_conformance.clock import SEAM_PATH, AdjustableClock, with_clock_seam
from gclogin_conformance.idp_driver import Idp, default_seed
from gclogin_conformance.requirements import requirement_of
from gclogin_conformance.servers import free_port, wsgi_server
from gclogin_conformance.targets import RunSpec, ServerSpec, mock_seed_credentials, spec_from_env
from gclogin_conformance.web_driver import Web

GROUPS = {"client": "Client: gclogin (white-box)", "client-profile": "Client (black-box, by its profile)",
          "server": "Server", "server-mock": "Server: mock-only checks (seed, admin API, internals)",
          "web": "Web service"}
RUNS = {"self-check": {"client", "client-profile", "server", "server-mock", "web"},
        "server": {"server", "server-mock"}, "client": {"client-profile"}}
SPEC_KEY = pytest.StashKey[RunSpec]()
SHIPPED_PROFILES = Path(__file__).resolve().parent / "profiles"


def pytest_addoption(parser) -> None:
    group = parser.getgroup("conformance")
    group.addoption("--conformance-spec", default=None, help="a RunSpec as JSON (gclogin-conformance writes it)")


def pytest_configure(config) -> None:
    path = config.getoption("--conformance-spec", None)
    if path:
        spec = RunSpec.from_json(Path(path).read_text(encoding="utf-8"))
    else:
        spec = spec_from_env({k: v for k, v in os.environ.items() if k.startswith("CONFORMANCE_")})
    config.stash[SPEC_KEY] = spec
    config.addinivalue_line("markers", "slow: starts subprocess servers or browsers")



def pytest_collection_modifyitems(config, items: list[pytest.Item]) -> None:
    """Keep the checks this mode runs (the rest are deselected, not counted) and tag each."""
    spec: RunSpec = config.stash[SPEC_KEY]
    keep, drop = [], []
    for item in items:
        req = requirement_of(item.name)
        if req is None:
            keep.append(item)
            continue
        group = _function_group(item)
        if group not in RUNS[spec.mode]:
            drop.append(item)
            continue
        keep.append(item)
        item.user_properties += [("requirement", req), ("group", group), ("target", _where(spec, group))]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _function_group(item) -> str:
    module = getattr(getattr(item, "function", None), "__module__", "") or ""
    return str(getattr(sys.modules.get(module), "GROUP", None) or getattr(item.module, "GROUP", "server"))


def _where(spec: RunSpec, group: str) -> str:
    if group == "client":
        return "gclogin client (service/), in-process"
    if group == "client-profile":
        return f"client profile {spec.client_profile or SHIPPED_PROFILES / 'gclogin.toml'}"
    if group == "web":
        return f"web service {spec.web_url or 'in-process'}"
    return spec.server.describe() if spec.server else "in-process mock IdP"


@pytest.fixture(scope="session")
def run_spec(request) -> RunSpec:
    return request.config.stash[SPEC_KEY]


@pytest.fixture(scope="session")
def server(run_spec: RunSpec) -> ServerSpec | None:
    return run_spec.server


@pytest.fixture
def mock_only(idp: Idp) -> None:
    """For checks that drive the mock's seed or admin API."""
    if not idp.spec.mock:
        pytest.skip("needs this project's mock IdP (its seed and admin API): run with --mock")


@pytest.fixture
def internals_only(idp: Idp) -> None:
    """For checks that reconfigure the mock."""
    if not idp.spec.internals:
        pytest.skip("reconfigures the mock: in-process self-check only")


@contextlib.contextmanager
def in_process_idp(tmp_dir, **config) -> Iterator[str]:
    """The mock IdP in a thread on 127.0.0.1 with a private store and a clock seam; yields its base URL."""
    from mock_idp import create_app

    clock = AdjustableClock()
    app = create_app({"DB": str(tmp_dir / "idp.sqlite3"), "CLOCK": clock, **config})
    with wsgi_server(with_clock_seam(app, clock)) as base:
        yield base


def mock_spec(base: str, internals: bool = True) -> ServerSpec:
    return ServerSpec(login_url=base, api_url=base, internals=internals, clock_url=base + SEAM_PATH,
                      **mock_seed_credentials(default_seed()))


@pytest.fixture(scope="session")
def idp(run_spec: RunSpec, tmp_path_factory) -> Iterator[Idp]:
    """The authorization server under test (the in-process mock in self-check)."""
    if run_spec.server is not None:
        yield Idp(run_spec.server)
        return
    with in_process_idp(tmp_path_factory.mktemp("idp")) as base:
        yield Idp(mock_spec(base))


@pytest.fixture(scope="session")
def web_base(run_spec: RunSpec, idp: Idp, tmp_path_factory) -> Iterator[str]:
    """The web service's base URL: started here (in-process) or the stack's."""
    if run_spec.web_url:
        yield run_spec.web_url
        return
    if not idp.spec.internals:
        pytest.skip("no web service in this target (set CONFORMANCE_WEB_URL)")
    from service.web import create_app

    state = tmp_path_factory.mktemp("web")
    port = free_port()
    # localhost, not 127.0.0.1: browsers share cookies across ports of one host, and the
    # IdP runs on 127.0.0.1.
    public = f"http://localhost:{port}"
    app = create_app({"IDP_URL": idp.base_url, "PUBLIC_URL": public, "CONFIG_PATH": str(state / "config.toml"),
                      "PENDING_DB": str(state / "pending.sqlite3"), "SECRET_KEY": "conformance-only",
                      "TESTING": False})
    with wsgi_server(app, port=port):
        yield public


@pytest.fixture
def web(web_base: str, idp: Idp) -> Web:
    """A fresh browser-like session on the web service."""
    return Web(web_base, idp)


@pytest.fixture(scope="session")
def client_profile(run_spec: RunSpec):
    """The client under test: the run's profile, or the shipped gclogin profile in self-check."""
    from gclogin_conformance.client.profile import load_profile

    return load_profile(run_spec.client_profile or SHIPPED_PROFILES / "gclogin.toml")


@pytest.fixture(scope="session")
def client(client_profile, tmp_path_factory):
    """The client-mode session (adversarial IdP, headless person, the logins run so far)."""
    from gclogin_conformance.browser import BrowserUnavailable, chromium_path
    from gclogin_conformance.client.session import client_session

    if client_profile.browser == "page":
        pytest.skip("browser-app profiles: only the page's own checks run (see the profile)")
    try:
        chromium_path()
    except BrowserUnavailable as missing:
        # The image has no browser: client mode runs where chromium is (make test installs it).
        pytest.skip(f"client checks need a headless chromium for the person who signs in: {missing}")
    with client_session(client_profile, tmp_path_factory.mktemp("client")) as session:
        yield session
