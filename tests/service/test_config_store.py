"""config.toml I/O: atomic, locked, 0600/0700 (R28); malformed files are never overwritten."""
import os
import stat
import subprocess
import sys

import pytest

from service.config_store import ConfigStore, default_config_path
from service.errors import ConfigParseError, ProfileNotFoundError
from service.profiles import GrantType, Profile
from devtools.servers import REPO


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


def test_a_key_redeclared_by_a_later_table_is_a_parse_error_naming_the_line(tmp_path):
    """tomlkit accepts this file and fails only when the out-of-order table is first read,
    with its own KeyAlreadyPresent (found by fuzz/fuzz_config.py)."""
    path = tmp_path / "config.toml"
    bad = "[x]\na = 1\n[y]\na = 1\n[x.b]\na = 1\n[x.a]\n"
    path.write_text(bad)
    store = ConfigStore(path)
    for call in (store.profiles, store.profile_results, lambda: store.save(Profile(name="b"))):
        with pytest.raises(ConfigParseError) as info:
            call()
        assert info.value.line == 7 and str(path) in str(info.value)
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


@pytest.mark.slow
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


# --- edits that must read back (fuzz finding: no final newline) --------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
import tomlkit  # noqa: E402
from tomlkit.items import String, StringType, Trivia  # noqa: E402

from service.config_store import check_rewrite, with_final_newline  # noqa: E402
from service.errors import ConfigError, InvalidValueError  # noqa: E402
from service.profiles import TokenData  # noqa: E402

_label = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_last_lines = st.one_of(
    st.builds(lambda keys, v: f"work.{'.'.join(keys)} = {v}", st.lists(_label, min_size=1, max_size=3),
              st.sampled_from(['"/x"', "1", "true", "[1, 2]", "{a = 1}"])),
    st.builds(lambda k: f"[work]\n{k} = \"v\"", _label),
    st.builds(lambda k: f"[work]\n{k} = \"v\" # trailing comment", _label),
    st.just("[work]\n# only a comment"),
    st.just("[work]"),
    st.just("[work.sub]\nx = 1"),
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["", "# mine\n", "other.x = 1\n"]), _last_lines)
def test_a_file_without_final_newline_is_edited_into_valid_toml(tmp_path_factory, head, last):
    """Whatever the last line is, caching a token writes a file that loads back (R28: nothing lost)."""
    path = tmp_path_factory.mktemp("nl") / "config.toml"
    text = head + last
    path.write_text(text)
    store = ConfigStore(path)
    profile = store.get("work")
    store.save(profile.with_token(TokenData.issued("t" * 40, "bearer", 3600)))
    written = path.read_text()
    assert all(line in written.splitlines() for line in text.splitlines())  # the user's lines are kept
    reloaded = ConfigStore(path).get("work")
    assert reloaded.token_data.access_token == "t" * 40 and reloaded.extra == profile.extra


def test_with_final_newline():
    assert with_final_newline("") == ""
    assert with_final_newline("a = 1") == "a = 1\n"
    assert with_final_newline("a = 1\n") == "a = 1\n"


def test_an_edit_that_would_not_read_back_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "gc" / "config.toml"
    path.parent.mkdir()
    original = "# mine\n[a]\nx = 1\n"
    path.write_text(original)
    store = ConfigStore(path)
    with pytest.raises(ConfigError) as caught:
        with store.transaction() as doc:
            # what a tomlkit rendering bug would produce: text that is not the value
            doc["a"]["y"] = String(StringType.SLB, "fine", 'bro"ken', Trivia())
    assert str(path) in str(caught.value) and "not saved" in str(caught.value)
    assert path.read_text() == original
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml", "config.toml.lock"]


def test_check_rewrite_accepts_what_reads_back_and_nan():
    doc = tomlkit.parse("a = nan\n[b]\nc = [1, {d = 2}]\n")
    check_rewrite(doc.as_string(), doc, "x.toml")
    with pytest.raises(ConfigError, match="x.toml"):
        check_rewrite("a = nan\n[b]\nc = [1, {d = 3}]\n", doc, "x.toml")


# --- clear errors ------------------------------------------------------------------------

def test_config_path_that_is_a_directory_is_one_clear_error_without_warnings(tmp_path):
    directory = tmp_path / "gc" / "d"
    directory.mkdir(mode=0o755, parents=True)
    warnings = []
    store = ConfigStore(directory, warn=warnings.append)
    for action in (store.load, lambda: store.save(Profile(name="a"))):
        with pytest.raises(ConfigError, match=f"^{directory} is a directory"):
            action()
    assert warnings == []
    assert list(directory.parent.iterdir()) == [directory]  # no lock file beside it


def test_permission_warning_is_given_once_per_store(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[a]\n")
    path.chmod(0o644)
    warnings = []
    store = ConfigStore(path, warn=warnings.append)
    store.names()
    store.get("a")
    assert len(warnings) == 1


def test_invalid_profile_error_names_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[ci]\ngrant_type = "7"\n[ok]\ngrant_type = "1"\n')
    store = ConfigStore(path)
    with pytest.raises(InvalidValueError) as caught:
        store.get("ci")
    assert str(caught.value).startswith(f"{path}: profile 'ci': grant_type: ")
    results = store.profile_results()
    assert isinstance(results["ci"], InvalidValueError) and str(path) in str(results["ci"])
    assert results["ok"].grant_type is GrantType.CLIENT_CREDENTIALS


def test_unreadable_token_cache_warns_once_naming_file_and_key(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[p]\ngrant_type = "3"\nclient_credentials = "c"\noauth_token_data = "{not json"\n')
    path.chmod(0o600)
    tmp_path.chmod(0o700)
    warnings = []
    profile = ConfigStore(path, warn=warnings.append).get("p")
    assert profile.token_data is None
    assert warnings == [f"warning: {path}: profile 'p': oauth_token_data: is not valid JSON; "
                        "ignoring the cached token"]


def test_a_gc_profile_name_with_a_space_loads_and_takes_a_token(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('["weird name"]\ngrant_type = "1"\n')
    store = ConfigStore(path)
    store.save(store.get("weird name").with_token(TokenData.issued("tok", "bearer", 60)))
    assert ConfigStore(path).get("weird name").token_data.access_token == "tok"
    assert path.read_text().startswith('["weird name"]\ngrant_type = "1"\n')
