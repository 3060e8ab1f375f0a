"""Liveness for compose and the demo launcher: never touches the IdP or the disk."""
from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("healthz", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")
