"""Inputs the fuzzers found, replayed as plain tests so each finding has a name.

Each test states what the documented behaviour is; the input also sits in the
harness's corpus (fuzz/corpus/<target>/regression-*) so `make fuzz` replays it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from service.config_store import ConfigStore
from service.errors import ConfigParseError
from service.profiles import TokenData

DUPLICATES = {
    # Found by fuzz/fuzz_config.py: tomlkit raises KeyAlreadyPresent (not a ParseError)
    # for a key repeated inside a table, and ConfigStore lets it escape as a traceback.
    "key repeated in a table": ("[DEFAULT]\nclient_secret = \"a\"\nclient_secret = \"b\"\n", 3),
    "key then sub-table of that key": ("[x]\na = 1\n[x.a]\n", 3),
}


@pytest.mark.parametrize(("text", "line"), DUPLICATES.values(), ids=DUPLICATES.keys())
def test_duplicate_key_is_a_config_parse_error_naming_file_and_line(text: str, line: int,
                                                                    tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigParseError) as caught:
        ConfigStore(config).profiles()
    assert str(config) in str(caught.value)
    assert caught.value.line == line
    assert config.read_text() == text


NO_FINAL_NEWLINE = {
    # Found by fuzz/fuzz_config.py ("\na511.0.0.1=2"): when the file's last line is a
    # dotted key three levels deep with no newline after it, tomlkit appends the next key
    # on the same line, and gclogin writes a file it cannot read back.
    "dotted key, 3 levels": 'work.proxy.login.path = "/x"',
    "dotted key, after a comment": '# mine\nwork.gateway.paths.api = "/api"',
}


@pytest.mark.parametrize("text", NO_FINAL_NEWLINE.values(), ids=NO_FINAL_NEWLINE.keys())
def test_caching_a_token_never_writes_a_file_that_cannot_be_read(text: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    store = ConfigStore(config)
    profile = store.get("work")
    store.save(profile.with_token(TokenData.issued("t" * 40, "bearer", 3600)))
    reloaded = ConfigStore(config).get("work")   # raises ConfigParseError today
    assert reloaded.token_data is not None and reloaded.token_data.access_token == "t" * 40
    assert reloaded.extra == profile.extra
