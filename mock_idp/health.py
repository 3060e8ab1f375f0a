"""GET /healthz for compose and the test helpers."""
from __future__ import annotations

import os

from flask import Blueprint, Response, jsonify

from .extension import ext

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """503 while the store does not answer (a balancer then sends requests elsewhere)."""
    healthy = ext().store.ping()
    body: dict = {"status": "ok" if healthy else "store unavailable"}
    if ext().settings.expose_worker_pid:
        body["pid"] = os.getpid()
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    return response
