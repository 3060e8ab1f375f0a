"""Fixtures for the robustness tests: a mock IdP on 127.0.0.1 in this process."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_idp import create_app
from mock_idp.testing import app_config
from devtools.servers import wsgi_server


@pytest.fixture(scope="module")
def idp_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The mock IdP (demo seed, RFC 8252 any-port rule so loopback ports can be free)."""
    app = create_app(app_config(tmp_path_factory.mktemp("idp"), LOOPBACK_ANY_PORT=True))
    with wsgi_server(app) as url:
        yield url
