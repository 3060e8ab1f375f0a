"""Point 7: idle connections (each sends half a request line and stops) must not freeze the
web service; under sync workers two of them did. gevent workers, as compose and the demo run it."""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import requests

from devtools.processes import WEB_CONFIG
from devtools.servers import gunicorn

pytestmark = pytest.mark.slow


def test_50_idle_connections_do_not_stop_healthz(tmp_path):
    env = {"GCLOGIN_CONFIG": str(tmp_path / "gc" / "config.toml"), "SERVICE_PUBLIC_URL": "http://localhost:8080"}
    with gunicorn("service:create_app()", env=env, extra_args=["--config", WEB_CONFIG]) as (base, _proc):
        port = urlsplit(base).port
        idle = []
        try:
            for _ in range(50):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end
                idle.append(sock)
            for _ in range(3):
                # generous: a frozen service never answers; a live one answers at once
                assert requests.get(base + "/healthz", timeout=20).status_code == 200
        finally:
            for sock in idle:
                sock.close()
