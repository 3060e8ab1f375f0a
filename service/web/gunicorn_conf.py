"""How the web service runs under gunicorn: `gunicorn --config python:service.web.gunicorn_conf`.

gevent workers, as the mock IdP (mock_idp/gunicorn_conf.py): a sync worker blocks on one
connection's request headers, so two idle connections froze the service; a gevent worker
waits on all of them at once. compose.yaml, the Dockerfile and `make demo` load this.
"""
from __future__ import annotations

from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker

from service.gunicorn_settings import GUNICORN_SETTINGS

# --config replaces ./gunicorn.conf.py: take what every gunicorn run of ours shares.
globals().update(GUNICORN_SETTINGS)

workers = 2
worker_class = "gevent"
graceful_timeout = 10


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """Give the worker's other connections a turn after each answer (see the mock's conf)."""
    if isinstance(worker, GeventWorker):
        gevent.sleep(1e-6)
