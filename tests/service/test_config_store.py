"""config.toml I/O: atomic, locked, 0600/0700 (R28); malformed files are never overwritten."""
import os
import stat
import subprocess
import sys

import pytest

from service.config_store import ConfigStore, default_config_path
from service.errors import ConfigParseError, ProfileNotFoundError
from service.profiles import GrantType, Profile
from tests.support.servers import REPO


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_default_path_and_override(tmp_path):
    assert default_config_path({"HOME": "/h"}) == __import__("pathlib").Path("/h/.gc/config.toml")
    assert default_config_path({"HOME": "/h", "GCLOGIN_CONFIG": str(tmp_path / "c.toml")}) == tmp_path / "c.toml"


def test_save_creates_0600_file_in_0700_dir(tmp_path):
    store = ConfigStore(tmp_path / "gc" / "config.toml")
    store.save(Profile(name="a", grant_type=GrantType.CLIENT_CREDENTIALS, client_id="c", client_secret="s"))
    assert mode(tmp_path / "gc") == 0o700
    assert mode(store.path) == 0o600
    assert store.get("a").client_secret == "s"
    assert [p.name for p in (tmp_path / "gc").iterdir() if p.name.endswith(".tmp")] == []


def test_looser_permissions_warn(tmp_path):
    path = tmp_path / "d" / "config.toml"
    path.parent.mkdir(mode=0o755)
    path.write_text("[a]\n")
    path.chmod(0o644)
    warnings = []
    ConfigStore(path, warn=warnings.append).load()
    assert any("config.toml is 0644" in w for w in warnings)
    assert any("0755" in w for w in warnings)


def test_save_tightens_existing_file_mode(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("# keep me\n[other]\nx = 1\n")
    path.chmod(0o644)
    ConfigStore(path).save(Profile(name="a"))
    assert mode(path) == 0o600
    assert path.read_text().startswith("# keep me\n[other]\nx = 1\n")


def test_malformed_file_is_never_overwritten(tmp_path):
    path = tmp_path / "config.toml"
    bad = "[a]\ngrant_type = \"1\"\nclient_secret = \n"
    path.write_text(bad)
    store = ConfigStore(path)
    with pytest.raises(ConfigParseError) as info:
        store.save(Profile(name="b"))
    assert info.value.line == 3
    assert str(path) in str(info.value) and "line 3" in str(info.value)
    assert path.read_text() == bad


def test_get_and_delete_unknown_profile(tmp_path):
    store = ConfigStore(tmp_path / "config.toml")
    with pytest.raises(ProfileNotFoundError, match="'nope'"):
        store.get("nope")
    store.save(Profile(name="a"))
    with pytest.raises(ProfileNotFoundError):
        store.delete("nope")
    store.delete("a")
    assert store.names() == []


SAVER = """
import sys
from service.config_store import ConfigStore
from service.profiles import Profile, GrantType
store = ConfigStore(sys.argv[1])
for i in range(5):
    store.save(Profile(name=f"{sys.argv[2]}-{i}", grant_type=GrantType.PKCE, client_id=sys.argv[2]))
"""


def test_concurrent_saves_from_many_processes_lose_nothing(tmp_path):
    path = tmp_path / "gc" / "config.toml"
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, str(path), f"p{n}"], cwd=REPO)
             for n in range(10)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    names = ConfigStore(path).names()
    assert sorted(names) == sorted(f"p{n}-{i}" for n in range(10) for i in range(5))
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]
