"""What one app instance holds (in `app.extensions["mock_idp"]`): no module-level state."""
from __future__ import annotations

from dataclasses import dataclass

from authlib.integrations.flask_oauth2 import ResourceProtector
from flask import current_app

from .config import Settings
from .control_state import ControlState
from .oauth2 import MockAuthorizationServer
from .store_api import Store

KEY = "mock_idp"


@dataclass(frozen=True)
class MockIdp:
    settings: Settings
    store: Store
    server: MockAuthorizationServer
    protector: ResourceProtector
    control: ControlState | None = None  # the /mock/ control API's state; None: it is off


def ext() -> MockIdp:
    return current_app.extensions[KEY]
