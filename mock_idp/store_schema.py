"""The SQLite store's tables, as numbered migrations (sqlite_engine.migrate runs them).

A schema change is a new Migration at the end of MIGRATIONS, never an edit of an
old one: stores on disk at every earlier version must reach the new one.
"""
from __future__ import annotations

import sqlite3

from .sqlite_engine import Migration

_TABLES_V1 = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    email TEXT NOT NULL, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
    grant_type TEXT NOT NULL, redirect_uris TEXT NOT NULL, scope TEXT NOT NULL,
    validity INTEGER NOT NULL, roles TEXT NOT NULL, secret_hash TEXT NOT NULL,
    date_created TEXT NOT NULL, incarnation TEXT NOT NULL DEFAULT '');
DROP TABLE IF EXISTS tokens;
CREATE TABLE IF NOT EXISTS revoked (jti TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
    redirect_uri TEXT, scope TEXT NOT NULL, code_challenge TEXT,
    code_challenge_method TEXT, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0,
    token_jti TEXT, token_expires_at REAL);
CREATE TABLE IF NOT EXISTS pending (
    id_hash TEXT PRIMARY KEY, binding_hash TEXT NOT NULL, csrf_hash TEXT NOT NULL,
    params TEXT NOT NULL, expires_at REAL NOT NULL)
"""
# Columns that stores written before schema_version may lack (CREATE IF NOT EXISTS
# leaves an existing table as it is). Later columns are migrations of their own.
_UNVERSIONED_GAPS = {
    "clients": (("incarnation", "TEXT NOT NULL DEFAULT ''"),),
    "codes": (("token_jti", "TEXT"), ("token_expires_at", "REAL")),
}


def _v1(conn: sqlite3.Connection) -> None:
    """The tables when schema_version began: made in a new file, completed in a store
    written before the row (whose tokens table went with signed tokens)."""
    for statement in _TABLES_V1.split(";"):
        conn.execute(statement)
    for table, columns in _UNVERSIONED_GAPS.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


_CONTROL_TABLES = """
CREATE TABLE IF NOT EXISTS mock_faults (
    id INTEGER PRIMARY KEY, spec TEXT NOT NULL, remaining INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS mock_logins (
    id INTEGER PRIMARY KEY, spec TEXT NOT NULL, client_id TEXT,
    remaining INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS mock_requests (id INTEGER PRIMARY KEY, entry TEXT NOT NULL)
"""


def _v2(conn: sqlite3.Connection) -> None:
    """Users' extra seed fields (users/me returns them); the control API's state
    (control_state.py): injected faults, scripted sign-ins, received requests."""
    if "extra" not in {row[1] for row in conn.execute("PRAGMA table_info(users)")}:  # adopted stores have it
        conn.execute("ALTER TABLE users ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'")
    for statement in _CONTROL_TABLES.split(";"):
        conn.execute(statement)


def _v3(conn: sqlite3.Connection) -> None:
    """Refresh tokens (Code Authorization): hashed, single-use, one login per family."""
    conn.execute("""CREATE TABLE IF NOT EXISTS refresh_tokens (
        token_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
        scope TEXT NOT NULL, login_id TEXT NOT NULL, expires_at REAL NOT NULL,
        used INTEGER NOT NULL DEFAULT 0, access_jti TEXT NOT NULL,
        access_expires_at REAL NOT NULL) WITHOUT ROWID""")
    conn.execute("CREATE INDEX IF NOT EXISTS refresh_tokens_login ON refresh_tokens (login_id)")
    conn.execute("CREATE INDEX IF NOT EXISTS refresh_tokens_access ON refresh_tokens (access_jti)")


def _v4(conn: sqlite3.Connection) -> None:
    """Wrong passwords per pending login (five end it: no unlimited guessing)."""
    if "failures" not in {row[1] for row in conn.execute("PRAGMA table_info(pending)")}:
        conn.execute("ALTER TABLE pending ADD COLUMN failures INTEGER NOT NULL DEFAULT 0")


def _v5(conn: sqlite3.Connection) -> None:
    """Users' roles: a user's token has the user's rights, not its client's."""
    if "roles" not in {row[1] for row in conn.execute("PRAGMA table_info(users)")}:
        conn.execute("ALTER TABLE users ADD COLUMN roles TEXT NOT NULL DEFAULT '[]'")


MIGRATIONS = (
    Migration(1, "users, clients, revoked, codes, pending", _v1),
    Migration(2, "users.extra; control API tables", _v2),
    Migration(3, "refresh_tokens", _v3),
    Migration(4, "pending.failures", _v4),
    Migration(5, "users.roles", _v5),
)
