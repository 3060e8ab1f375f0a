"""How the mock IdP runs under gunicorn: `gunicorn --config python:mock_idp.gunicorn_conf`.

compose.yaml, `make demo` and `make bench` all load this module, so the mock that is
measured is the mock that ships. Command-line flags still override it.

gevent workers: one process serves every keep-alive connection it holds, with no thread
handoff per request. Sync workers close the connection after each answer and gthread
hands every request to a thread and back; on 2 CPUs under wrk, the token endpoint served
about 2x and 2.3x the peer's req/s with them, against about 2.9x with these (README,
Performance).
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
    the socket never makes it block: with no pause one busy keep-alive connection held
    the whole worker (token p99 of 0.1-1 s at 32 connections, p50 0.3 ms). Nor
    sleep(0): gevent may resume such a greenlet before it polls for I/O again (its
    documentation says so), and under load it did, for 15 ms at a time (p99 up to
    42 ms). A positive pause waits for the loop's next turn, after the ready connections
    (p99 5-7 ms).
    """
    if isinstance(worker, GeventWorker):
        gevent.sleep(YIELD_S)
