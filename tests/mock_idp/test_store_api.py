"""The store interface is the seam: the SQLite store implements all of it, and no part of
the mock but the app factory knows which engine it has."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import mock_idp
from mock_idp.redis_store import RedisStore
from mock_idp.store import SqliteStore
from mock_idp.store_api import Store

PACKAGE = Path(mock_idp.__file__).parent


def interface_methods() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(Store).items()
            if inspect.isfunction(member) and not name.startswith("_")}


@pytest.mark.parametrize("engine", [SqliteStore, RedisStore])
def test_each_engine_implements_every_method_with_its_signature(engine):
    methods = interface_methods()
    assert {"claim_code", "find_token", "apply_seed", "take_pending", "ping"} <= set(methods)
    for name, signature in methods.items():
        assert inspect.signature(getattr(engine, name)) == signature, (engine.__name__, name)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_only_the_app_factory_names_the_engine():
    engine_modules = {".store", "mock_idp.store", ".sqlite_engine", "mock_idp.sqlite_engine"}
    users = {path.name for path in PACKAGE.glob("*.py") if imported_modules(path) & engine_modules}
    # store_schema brings the tables to the engine; store.py is the engine's domain half;
    # control_sqlite.py keeps the control API's state (/mock/) on the same engine;
    # redis_store.py takes the password hashing from store.py, so both hash alike.
    assert users == {"app.py", "store.py", "store_schema.py", "control_sqlite.py", "redis_store.py"}
