"""GET /: what this server is and where its endpoints are, instead of a JSON 404.

The seed's users and clients (demo credentials) are listed only when the app is configured
to (MOCK_IDP_SHOW_DEMO_CREDENTIALS, set by ``make demo``): never by default, so a mock
reachable by others does not hand out its passwords.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from .extension import ext
from .pages import html_page
from .seed import load_seed

bp = Blueprint("landing", __name__)

ENDPOINTS = (
    ("GET", "/oauth/authorize", "sign-in page: implicit (response_type=token) and PKCE (code)"),
    ("POST", "/oauth/token", "client credentials, authorization code + PKCE"),
    ("GET", "/api/v2/users/me", "the signed-in user (bearer token)"),
    ("DELETE", "/api/v2/tokens/me", "revoke the bearer token (gc tokens me delete)"),
    ("GET", "/api/v2/oauth/clients", "OAuth clients (admin token)"),
    ("GET", "/logout", "end the sign-in session"),
    ("GET", "/healthz", "health check"),
)


@bp.get("/")
def index() -> Response:
    settings = ext().settings
    seed = load_seed(settings.seed) if settings.show_demo_credentials else None
    return html_page("landing.html", base_url=request.host_url.rstrip("/"), endpoints=ENDPOINTS,
                     seed=seed, control=ext().control is not None)
