"""Points 8 and 9: pre-created unsafe directories and files, and a planted lock-file link.

Another user's directory cannot be made here (tests do not run as two users), so "not
ours" is played by a symlink to one of ours (lstat sees a link, not our directory) and
the owner check by its own unit; modes are real.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mock_idp.sqlite_engine import SqliteEngine
from mock_idp.store_schema import MIGRATIONS
from service.config_store import ConfigStore
from service.errors import ConfigError
from service.private_files import UnsafePathError, own_private_file, owned_private_dir
from service.profiles import Profile
from service.web.pending import PendingLogins
from service.web.settings import load_or_create_secret


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_mock_store_in_a_precreated_0777_dir_with_a_0644_store_is_tightened(tmp_path):
    directory = tmp_path / "mock-idp-1000"
    directory.mkdir()
    directory.chmod(0o777)
    store = directory / "store.sqlite3"
    store.touch()
    store.chmod(0o644)
    SqliteEngine(store, MIGRATIONS)
    assert mode(directory) == 0o700 and mode(store) == 0o600


def test_mock_store_dir_planted_as_a_symlink_is_refused(tmp_path):
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir(mode=0o777)
    link = tmp_path / "mock-idp-1000"
    link.symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="not a directory owned by you"):
        SqliteEngine(link / "store.sqlite3", MIGRATIONS)
    assert not (elsewhere / "store.sqlite3").exists()


def test_mock_store_file_planted_as_a_symlink_is_refused(tmp_path):
    directory = tmp_path / "d"
    directory.mkdir(mode=0o700)
    target = tmp_path / "victim.txt"
    (directory / "store.sqlite3").symlink_to(target)
    with pytest.raises(OSError):
        SqliteEngine(directory / "store.sqlite3", MIGRATIONS)
    assert not target.exists()


def test_web_pending_store_and_key_file_are_tightened_and_never_followed(tmp_path):
    state = tmp_path / "web"
    state.mkdir(mode=0o777)
    state.chmod(0o777)
    pending = state / "web-pending.sqlite3"
    pending.touch()
    pending.chmod(0o666)
    PendingLogins(pending, 60)
    assert mode(state) == 0o700 and mode(pending) == 0o600
    key = state / "web-secret.key"
    key.write_text("k" * 64)
    key.chmod(0o644)
    assert load_or_create_secret(key) == "k" * 64
    assert mode(key) == 0o600
    planted = tmp_path / "other.key"
    planted.write_text("attacker-chosen-key-" + "x" * 40)
    key.unlink()
    key.symlink_to(planted)
    with pytest.raises(OSError):
        load_or_create_secret(key)


def test_owner_check_refuses_a_file_not_ours(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.touch()
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)   # as if another user made it
    with pytest.raises(UnsafePathError):
        own_private_file(path)
    with pytest.raises(UnsafePathError):
        owned_private_dir(tmp_path)


def test_gc_dir_left_0755_by_gc_is_tightened(tmp_path):
    gc_dir = tmp_path / ".gc"
    gc_dir.mkdir()
    gc_dir.chmod(0o755)
    ConfigStore(gc_dir / "config.toml").save(Profile(name="p"))
    assert mode(gc_dir) == 0o700


def test_a_world_writable_config_dir_is_refused_with_how_to_fix(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ConfigError) as caught:
        ConfigStore(shared / "config.toml").load()
    assert "writable by others" in str(caught.value) and f"chmod go-w {shared}" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_planted_lock_file_link_is_not_followed(tmp_path):
    gc_dir = tmp_path / ".gc"
    gc_dir.mkdir(mode=0o700)
    target = tmp_path / "created-through-the-link"
    (gc_dir / "config.toml.lock").symlink_to(target)
    with pytest.raises(ConfigError):
        ConfigStore(gc_dir / "config.toml").save(Profile(name="p"))
    assert not target.exists()
