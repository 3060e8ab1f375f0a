"""How the mock IdP runs under gunicorn: `gunicorn --config python:mock_idp.gunicorn_conf`.

compose.yaml, `make demo` and `make bench` all load this module, so the mock that is
measured is the mock that ships. Command-line flags still override it.

gevent workers, because one process serves every keep-alive connection it holds with no
thread handoff per request, and they measured best (docs/performance.md).
"""
from __future__ import annotations

from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker

from service import GUNICORN_SETTINGS

# --config replaces ./gunicorn.conf.py: take what every gunicorn run of ours shares.
globals().update(GUNICORN_SETTINGS)

workers = 2
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
