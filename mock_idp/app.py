"""The app factory: settings, store, seed, OAuth server, blueprints, error handlers."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask

from . import api, authorize, clients_api, control, health, landing, logout, token
from .control_sqlite import SqliteControlState
from .config import DEFAULTS, settings
from .errors import ConfigError, register_error_handlers
from .cors import Cors
from .extension import KEY, MockIdp
from .oauth2 import MockAuthorizationServer
from .seed import load_seed
from .redis_store import RedisStore
from .store import SqliteStore
from .store_api import Store
from .token_wsgi import TokenFastPath, WsgiApp


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

    # The one place that names an engine; everything else types against store_api.Store.
    seed = load_seed(current.seed)
    store: Store
    control_state: SqliteControlState | None = None
    if current.store is not None:
        if current.control_token:
            raise ConfigError("MOCK_IDP_CONTROL_TOKEN: the control API keeps its state in the "
                              "SQLite store only; unset it, or MOCK_IDP_STORE")
        store = RedisStore(current.store, current.clock, current.loopback_any_port)
        store.apply_seed(seed)
    else:
        sqlite_store = SqliteStore(current.db, current.clock, current.loopback_any_port)
        store = sqlite_store
        store.apply_seed(seed)
        # The /mock/ control API's state, on the same engine; None (and no /mock/) unless switched on.
        if current.control_token:
            control_state = SqliteControlState(sqlite_store, seed)
    server = MockAuthorizationServer(app, store)
    app.extensions[KEY] = MockIdp(current, store, server, api.make_protector(store), control_state)

    for module in (authorize, logout, token, api, clients_api, health, landing):
        app.register_blueprint(module.bp)
    register_error_handlers(app)

    # No app-wide after_request hook: the token endpoint may answer outside Flask's
    # request cycle (token_wsgi.py). The /api/v2 headers come from those blueprints and errors.py.
    if current.token_fast_path:
        app.wsgi_app = TokenFastPath(app, server, app.wsgi_app)  # type: ignore[method-assign]
    if control_state is not None:
        control.install(app, control_state)  # /mock/, and recording and faults on every other path
    # Outermost, so both token paths carry the same CORS headers.
    app.wsgi_app = Cors(app.wsgi_app, current.cors_origins)  # type: ignore[method-assign]
    if current.expose_worker_pid:
        app.wsgi_app = _with_worker_pid(app.wsgi_app)  # type: ignore[assignment]
    return app


def _with_worker_pid(wsgi_app: WsgiApp) -> WsgiApp:
    """Tests: which gunicorn worker answered, on every response of either path."""
    def worker_pid_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("X-Mock-Idp-Worker", str(os.getpid()))],
                                  exc_info)
        return wsgi_app(environ, start)
    return worker_pid_app
