"""Each process caches clients and users; the shared generation file says when to drop it."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from mock_idp.client_spec import ClientSpec
from mock_idp.store import SqliteStore

from .conftest import CC



@pytest.fixture
def store_engine() -> str:
    """These tests are about the SQLite engine's cache (test_redis_store.py has Redis's)."""
    return "sqlite"


SPEC = ClientSpec("made here", "", "CLIENT-CREDENTIALS", (), (), 600, ())


@pytest.fixture
def db(app, tmp_path) -> Path:  # `app` applied the demo seed
    return tmp_path / "mock_idp.sqlite3"


@pytest.fixture
def worker(db) -> SqliteStore:
    """Another process's view of the same store (its own cache)."""
    store = SqliteStore(db, time.time, loopback_any_port=False)
    yield store
    store.close()


def rename_behind_the_cache(db: Path, name: str) -> None:
    """Change a client the way no mock code does: without moving the generation."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE clients SET name = ? WHERE id = ?", (name, CC.id))
    conn.close()


def generation_file(db: Path) -> Path:
    return db.with_name(db.name + "-generation")


def test_lookups_are_served_from_the_cache(db, worker):
    before = worker.get_client(CC.id).name
    rename_behind_the_cache(db, "renamed behind the cache")
    assert worker.get_client(CC.id).name == before


def test_a_change_by_another_store_reaches_this_one(app, worker):
    assert worker.get_client(CC.id).validity == 86400
    other = app.extensions["mock_idp"].store
    other.update_client(CC.id, ClientSpec("changed", "", "CLIENT-CREDENTIALS", (), (), 900,
                                          ("admin",)))
    assert worker.get_client(CC.id).validity == 900
    made, _secret = other.create_client(SPEC)
    assert worker.get_client(made.id) == made
    assert other.delete_client(made.id)
    assert worker.get_client(made.id) is None


def test_each_change_leaves_the_generation_even_and_higher(app, db):
    path = generation_file(db)
    assert path.stat().st_mode & 0o777 == 0o600
    before = int.from_bytes(path.read_bytes(), "little")
    app.extensions["mock_idp"].store.create_client(SPEC)
    after = int.from_bytes(path.read_bytes(), "little")
    assert after > before and after % 2 == 0


def test_a_change_that_died_midway_makes_lookups_read_through(app, db, worker):
    worker.get_client(CC.id)
    path = generation_file(db)
    odd = int.from_bytes(path.read_bytes(), "little") + 1
    path.write_bytes(odd.to_bytes(8, "little"))  # as a change killed before it finished
    rename_behind_the_cache(db, "seen at once")
    assert worker.get_client(CC.id).name == "seen at once"
    rename_behind_the_cache(db, "and again")  # nothing is cached while it stays odd
    assert worker.get_client(CC.id).name == "and again"
    # The next change finishes normally; caching resumes.
    app.extensions["mock_idp"].store.create_client(SPEC)
    assert int.from_bytes(path.read_bytes(), "little") % 2 == 0
    assert worker.get_client(CC.id).name == "and again"
    rename_behind_the_cache(db, "cached again")
    assert worker.get_client(CC.id).name == "and again"


def test_a_failed_change_still_ends(app, db, worker):
    store = app.extensions["mock_idp"].store
    with pytest.raises(sqlite3.IntegrityError):
        # name NULL breaks the NOT NULL constraint inside the transaction
        store.update_client(CC.id, ClientSpec(None, "", "CLIENT-CREDENTIALS", (), (), 600, ()))
    assert int.from_bytes(generation_file(db).read_bytes(), "little") % 2 == 0
