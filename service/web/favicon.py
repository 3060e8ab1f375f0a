"""A tiny inline SVG icon at /favicon.ico, so browsers stop logging a 404 on every page."""
from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("favicon", __name__)

ICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
        '<rect width="16" height="16" rx="3" fill="#1f4e79"/>'
        '<path d="M4 8h8M8 4v8" stroke="#fff" stroke-width="2"/></svg>')
CACHE_SECONDS = 86400


@bp.get("/favicon.ico")
def icon() -> Response:
    response = Response(ICON, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
