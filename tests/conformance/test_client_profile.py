"""Client profiles: bad ones fail before anything starts, naming the file and the field."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gclogin_conformance.client.idp_middleware import Login, bend_redirect
from gclogin_conformance.client.profile import PLACEHOLDERS, fill, load_profile, parse_profile
from gclogin_conformance.targets import TargetError

SHIPPED = Path(__file__).resolve().parents[2] / "gclogin_conformance" / "profiles"
GOOD = 'command = ["cli", "--port", "{port}"]\n'


@pytest.mark.parametrize("name", ["gclogin", "gc", "browser-app"])
def test_shipped_profiles_load(name):
    assert load_profile(SHIPPED / f"{name}.toml").name == name


@pytest.mark.parametrize("text, names", [
    ("command = 3", "command"),
    ('command = ["cli", "{prot}"]', "command[1]"),
    ('command = ["cli", "{"]', "command[1]"),
    (GOOD + 'browser = "firefox"', "browser"),
    (GOOD + 'prompts = [["only one"]]', "prompts[0]"),
    (GOOD + 'prompts = [["(", "x"]]', "prompts[0]"),
    (GOOD + 'grants = ["password"]', "grants"),
    (GOOD + 'colour = "red"', "colour"),
    (GOOD + 'https = "yes"', "https"),
    ('browser = "page"', "page_url"),
    ("command = [", "not valid TOML"),
])
def test_bad_profile_names_file_and_field(text, names):
    with pytest.raises(TargetError) as err:
        parse_profile(text, "my.toml")
    assert str(err.value).startswith("my.toml") and names in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(TargetError, match="nope.toml"):
        load_profile(tmp_path / "nope.toml")


@given(st.dictionaries(st.sampled_from(PLACEHOLDERS), st.text(max_size=20)))
def test_fill_replaces_every_placeholder(values):
    template = " ".join("{" + k + "}" for k in values)
    assert fill(template, values) == " ".join(values.values())


@given(st.text(min_size=1, max_size=40))
def test_forged_state_never_equals_the_real_one(state):
    login = Login(scenario="forged_state")
    bent = bend_redirect(f"http://localhost:1/#access_token=t&state={state}", login)
    assert login.sent_state and login.sent_state != state and "access_token=t" in bent
    assert login.issued == ["t"]


def test_missing_state_drops_it():
    login = Login(scenario="missing_state")
    assert "state" not in bend_redirect("http://localhost:1/?code=c&state=s", login)


@pytest.mark.parametrize("text, message", [
    ('command = ["no-such-client-xyz"]\n', "command[0]='no-such-client-xyz': not found on PATH"),
    ('command = ["cli", "{nope}"]\n', "unknown placeholder(s) {nope}"),
])
def test_client_command_rejects_bad_profile_before_starting(tmp_path, capsys, text, message):
    from gclogin_conformance.cli import main

    path = tmp_path / "p.toml"
    path.write_text(text)
    assert main(["--out", str(tmp_path / "out"), "client", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err
    assert not (tmp_path / "out").exists()
