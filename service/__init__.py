"""gclogin: the reference Genesys Cloud login client and its web service.

`create_app` is resolved lazily so `import service.cli` or `import service.profiles`
never imports Flask; `gunicorn 'service:create_app()'` still works.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.web import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from service.web import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
