"""GET /healthz for compose and the test helpers."""
from __future__ import annotations

import os

from flask import Blueprint, Response, jsonify

from .extension import ext

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    body: dict = {"status": "ok"}
    if ext().settings.expose_worker_pid:
        body["pid"] = os.getpid()
    return jsonify(body)
