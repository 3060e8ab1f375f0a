"""pytest plugin (entry point `pytest11`): the `genesys_mock` fixture, for any project
that did `pip install gclogin`.

    def test_my_app_reads_the_user(genesys_mock):
        token = genesys_mock.issue_token(genesys_mock.client("TOKEN").id, "alice@example.com")
        me = requests.get(genesys_mock.base_url + "/api/v2/users/me",
                          headers={"Authorization": f"Bearer {token}"}).json()
        assert me["name"] == "Alice Example"

One server per test session (127.0.0.1, a port it bound, a private store), reset to the
seed before each test: faults, scripted sign-ins, received requests and clock moves
never reach the next test. Another seed: `genesys_mock_seed = path/to/seed.toml` in
the pytest ini file.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .live_server import LiveMock


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("genesys_mock_seed", "seed file (TOML) for the genesys_mock fixture; "
                  "default: the mock's demo seed", default="")


@pytest.fixture(scope="session")
def genesys_mock_server(tmp_path_factory: pytest.TempPathFactory,
                        pytestconfig: pytest.Config) -> Iterator[LiveMock]:
    """The session's mock server (not reset: use `genesys_mock` in tests)."""
    seed = str(pytestconfig.getini("genesys_mock_seed") or "")
    path = Path(pytestconfig.rootpath, seed) if seed else None
    with LiveMock.start(tmp_path_factory.mktemp("genesys_mock"), path) as mock:
        yield mock


@pytest.fixture
def genesys_mock(genesys_mock_server: LiveMock) -> LiveMock:
    """The mock, reset to its seed for this test."""
    genesys_mock_server.reset()
    return genesys_mock_server
