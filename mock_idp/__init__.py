"""A mock Genesys Cloud authorization and API server for development and CI.

    gunicorn --config python:mock_idp.gunicorn_conf 'mock_idp:create_app()'

See docs/mock-idp.md for settings, demo credentials and test seams
(`mock_idp.testing`).
"""
from __future__ import annotations

from .app import create_app
from .errors import ConfigError, MockIdpError, SeedError, StoreError

__all__ = ["ConfigError", "MockIdpError", "SeedError", "StoreError", "create_app"]
