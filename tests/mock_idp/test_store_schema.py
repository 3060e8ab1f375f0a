"""The store's schema_version row: new files, stores from before the row, newer stores,
and the migration runner's order and all-or-nothing transaction."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_idp import StoreError, create_app
from mock_idp.sqlite_engine import Migration, SqliteEngine, migrate, schema_version
from mock_idp.store_schema import MIGRATIONS
from mock_idp.testing import app_config

from .conftest import CC, bearer, cc_token

LATEST = len(MIGRATIONS)


def read(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def stored_version(db: Path) -> list[tuple]:
    return read(db, "SELECT value FROM meta WHERE key = 'schema_version'")


def test_a_new_store_gets_the_latest_schema_and_version(tmp_path, clock):
    db = tmp_path / "mock_idp.sqlite3"
    create_app(app_config(tmp_path, CLOCK=clock))
    assert stored_version(db) == [(str(LATEST),)]
    names = {r[0] for r in read(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {"meta", "users", "clients", "revoked", "codes", "pending",
                     "mock_faults", "mock_logins", "mock_requests", "refresh_tokens"}  # mock_*: the control API's
    assert "extra" in {r[1] for r in read(db, "PRAGMA table_info(users)")}
    columns = {r[1] for r in read(db, "PRAGMA table_info(codes)")}
    assert {"token_jti", "token_expires_at"} <= columns


def test_a_store_of_the_current_shape_without_the_row_is_adopted(tmp_path, clock):
    """As written by the mock before schema_version: same tables, no row."""
    db = tmp_path / "mock_idp.sqlite3"
    first = create_app(app_config(tmp_path, CLOCK=clock)).test_client()
    token = cc_token(first)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM meta WHERE key = 'schema_version'")
    conn.close()
    client = create_app(app_config(tmp_path, CLOCK=clock)).test_client()
    assert stored_version(db) == [(str(LATEST),)]
    # Nothing lost: the signing key (so the old token), the seeded client, the seed digest.
    assert client.get("/api/v2/tokens/me", headers=bearer(token)).status_code == 200
    assert read(db, f"SELECT name FROM clients WHERE id = '{CC.id}'") == [(CC.name,)]


def test_a_store_newer_than_the_code_is_refused_untouched(tmp_path, clock):
    db = tmp_path / "mock_idp.sqlite3"
    create_app(app_config(tmp_path, CLOCK=clock))
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(LATEST + 7),))
    conn.close()
    with pytest.raises(StoreError) as info:
        create_app(app_config(tmp_path, CLOCK=clock))
    message = str(info.value)
    assert str(db) in message
    assert f"schema version {LATEST + 7} " in message and f"(version {LATEST})" in message
    assert stored_version(db) == [(str(LATEST + 7),)]


def recorder(count: int, log: list[int]) -> list[Migration]:
    def step(version: int) -> Migration:
        def apply(conn: sqlite3.Connection) -> None:
            conn.execute(f"CREATE TABLE t{version} (x)")
            log.append(version)
        return Migration(version, f"table t{version}", apply)
    return [step(v) for v in range(1, count + 1)]


@given(st.integers(1, 6).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_migrations_above_the_stored_version_run_once_in_order(counts):
    total, start = counts
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn, recorder(start, []), Path("mem"))  # a store at version `start`
    log: list[int] = []
    assert migrate(conn, recorder(total, log), Path("mem")) == total
    assert log == list(range(start + 1, total + 1))
    assert schema_version(conn) == total
    log.clear()
    migrate(conn, recorder(total, log), Path("mem"))
    assert log == []  # a store at the latest version is left alone


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path):
    db = tmp_path / "s.sqlite3"
    SqliteEngine(db, recorder(1, [])).close()

    def broken(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk says no")
    migrations = [*recorder(2, []), Migration(3, "broken", broken)]
    with pytest.raises(sqlite3.OperationalError, match="disk says no"):
        SqliteEngine(db, migrations)
    assert stored_version(db) == [("1",)]
    names = {r[0] for r in read(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {"meta", "t1"}  # migration 2 rolled back with 3


@pytest.mark.parametrize("versions", [[2], [1, 3], [1, 1], [2, 1]])
def test_misnumbered_migrations_are_a_programming_error(versions):
    migrations = [Migration(v, "x", lambda conn: None) for v in versions]
    with pytest.raises(ValueError, match="numbered 1, 2"):
        migrate(sqlite3.connect(":memory:"), migrations, Path("mem"))


def test_a_version_1_store_gains_user_extras_and_the_control_tables(tmp_path, clock):
    db = tmp_path / "mock_idp.sqlite3"
    engine = SqliteEngine(db, MIGRATIONS[:1])  # a store as the mock wrote it before migration 2
    with engine.write() as c:
        c.execute("INSERT INTO users (id, username, name, email, password_hash) VALUES ('old', 'old', 'Old', 'o@x', 'h')")
    engine.close()
    assert stored_version(db) == [("1",)]
    app = create_app(app_config(tmp_path, CLOCK=clock))
    assert stored_version(db) == [(str(LATEST),)]
    assert read(db, "SELECT extra FROM users WHERE id = 'old'") == [("{}",)]
    assert app.extensions["mock_idp"].store.get_user("old").extra == {}
    names = {r[0] for r in read(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"mock_faults", "mock_logins", "mock_requests"} <= names
