"""The app factory: settings, store, seed, OAuth server, blueprints, error handlers."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from . import api, authorize, clients_api, health, token
from .config import DEFAULTS, settings
from .errors import register_error_handlers
from .extension import KEY, MockIdp
from .oauth2 import MockAuthorizationServer
from .seed import load_seed
from .store import Store


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the mock IdP. Config: defaults, then MOCK_IDP_* variables, then `config`.

    Raises ConfigError or SeedError (naming the setting, or the seed file, entry
    and field) before serving anything.
    """
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("MOCK_IDP")
    app.config.update(config or {})
    current = settings(app.config)

    # Authlib logs raw tokens at DEBUG ("Issue token ..."): never let them out (R25).
    logging.getLogger("authlib").setLevel(logging.INFO)

    store = Store(current.db, current.clock, current.loopback_any_port)
    store.apply_seed(load_seed(current.seed))
    server = MockAuthorizationServer(app, store)
    app.extensions[KEY] = MockIdp(current, store, server, api.make_protector(store))

    for module in (authorize, token, api, clients_api, health):
        app.register_blueprint(module.bp)
    register_error_handlers(app)

    # No app-wide after_request hook: Flask runs each one on every request, the token
    # endpoint's included. The /api/v2 headers come from those blueprints and errors.py.
    if current.expose_worker_pid:
        @app.after_request
        def _worker_pid(response: Response) -> Response:
            response.headers["X-Mock-Idp-Worker"] = str(os.getpid())
            return response

    return app
