"""The web service: the CLI's profiles and logins in a browser.

``create_app(config=None)`` is the factory (``gunicorn 'service:create_app()'``).
Everything stateful hangs off ``app.extensions["gclogin"]`` so each app starts clean.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config layered defaults → environment → ``config`` (tests)."""
    from . import errors, security, settings
    from .context import WebContext

    app = Flask(__name__)
    settings.load(app, config)
    app.extensions["gclogin"] = WebContext.from_app(app)
    security.init_app(app)
    errors.init_app(app)

    from . import account, favicon, healthz, login, profiles

    for module in (healthz, favicon, profiles, login, account):
        app.register_blueprint(module.bp)
    login.register_callback(app)
    return app
