"""How the mock IdP runs under gunicorn: `gunicorn --config python:mock_idp.gunicorn_conf`.

compose.yaml, `make demo` and `make bench` all load this module, so the mock that is
measured is the mock that ships. Command-line flags still override it.

gevent workers, because one process serves every keep-alive connection it holds with no
thread handoff per request, and they measured best (docs/performance.md).
"""
from __future__ import annotations

import os
from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker

from service import GUNICORN_SETTINGS

from .config import tls_environment
from .tls import ensure_certificates, trust_instructions

# --config replaces ./gunicorn.conf.py: take what every gunicorn run of ours shares.
globals().update(GUNICORN_SETTINGS)

workers = 2

# MOCK_IDP_TLS_DOMAIN=mock.test: HTTPS as login.mock.test and api.mock.test, with the CA
# in MOCK_IDP_STATE_DIR (mock_idp/tls.py); the master makes the files before it forks.
_tls_domain, _state_dir = tls_environment(os.environ)
if _tls_domain:
    _tls = ensure_certificates(_state_dir, _tls_domain)
    certfile, keyfile = str(_tls.cert), str(_tls.key)
    print(trust_instructions(_tls_domain, _tls.ca_cert, int(os.environ.get("PORT", "443"))), flush=True)
worker_class = "gevent"
graceful_timeout = 10

YIELD_S = 1e-6  # post_request's pause: any positive time means "the loop's next turn"


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """Give the worker's other connections a turn after each answer.

    A greenlet runs until it would block, and a client whose next request is already in
    the socket never makes it block, so one busy keep-alive connection could hold the
    whole worker. Not sleep(0): gevent may resume such a greenlet before it polls for I/O
    again (its documentation says so); a positive pause waits for the loop's next turn.
    """
    if isinstance(worker, GeventWorker):
        gevent.sleep(YIELD_S)
