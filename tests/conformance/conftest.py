"""Fixtures of the conformance suite: the target, and what each test reports about it.

The target variables are read HERE, once, at import: the root conftest's autouse
fixture deletes CONFORMANCE_* and GENESYSCLOUD_* before every test.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from tests.conformance.idp_driver import Idp, default_seed
from tests.conformance.requirements import requirement_of
from tests.conformance.targets import TargetSpec, target_from_env
from tests.conformance.web_driver import Web
from devtools.servers import free_port, wsgi_server

_HERE = os.path.dirname(os.path.abspath(__file__))
_TARGET_ENV = {k: v for k, v in os.environ.items() if k.startswith(("CONFORMANCE_", "GENESYSCLOUD_"))}


TARGET = target_from_env(_TARGET_ENV)  # a TargetError here names the variable that is wrong


@pytest.fixture(scope="session")
def target() -> TargetSpec:
    return TARGET


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tag each requirement test with where it runs, for the report and the JUnit XML.

    A module sets SIDE = "client" (our client in service/, every target), "server"
    (the target's authorization server / API) or "web" (the target's web service).
    """
    for item in items:
        req = requirement_of(item.name)
        if req is None or not str(item.path).startswith(_HERE):
            continue
        side = getattr(item.module, "SIDE", "server")
        where = {"client": "gclogin client (service/)",
                 "server": "IdP " + (TARGET.login_url or "in-process mock"),
                 "web": "web service " + (TARGET.web_url or "in-process")}[side]
        item.user_properties += [("requirement", req), ("target_kind", TARGET.kind),
                                 ("target", f"{TARGET.kind}: {where}")]


@pytest.fixture
def mock_only(target: TargetSpec) -> None:
    """For tests that drive the mock's seed, login form or admin API."""
    if not target.is_mock:
        pytest.skip("needs the mock IdP's login form or admin API; not run against a real org")


@pytest.fixture
def internals_only(target: TargetSpec) -> None:
    """For tests that inspect or reconfigure the mock's internals."""
    if not target.has_internals:
        pytest.skip("inspects the mock's internals: in-process target only")


@contextlib.contextmanager
def in_process_idp(tmp_dir, **config) -> Iterator[str]:
    """The mock IdP in a thread on 127.0.0.1 with a private store; yields its base URL."""
    from mock_idp import create_app

    app = create_app({"DB": str(tmp_dir / "idp.sqlite3"), **config})
    with wsgi_server(app) as base:
        yield base


@pytest.fixture(scope="session")
def idp(target: TargetSpec, tmp_path_factory) -> Iterator[Idp]:
    """The target's authorization server and API (the mock's seed known unless a real org)."""
    if target.kind == "in-process":
        with in_process_idp(tmp_path_factory.mktemp("idp")) as base:
            yield Idp(base, base, default_seed())
    elif target.kind == "stack":
        yield Idp(target.login_url, target.api_url, default_seed())
    else:
        yield Idp(target.login_url, target.api_url, None,
                  cc_client={"id": target.client_id, "secret": target.client_secret},
                  implicit_client_id=target.implicit_client_id)


@pytest.fixture(scope="session")
def web_base(target: TargetSpec, idp: Idp, tmp_path_factory) -> Iterator[str]:
    """The web service's base URL: started here (in-process) or the stack's."""
    if target.kind == "stack" and target.web_url:
        yield target.web_url
        return
    if target.kind != "in-process":
        pytest.skip(f"no web service in the {target.kind} target (set CONFORMANCE_WEB_URL)")
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
