"""Client profiles: bad ones fail before anything starts, naming the file and the field."""
from __future__ import annotations

import base64
import tomllib
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gclogin_conformance.client.idp_middleware import Login, basic_credentials_strict, bend_redirect
from gclogin_conformance.client.profile import PLACEHOLDERS, fill, load_profile, parse_profile
from gclogin_conformance.client.session import AWKWARD_CLIENT, seed_with_awkward_client
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
    (GOOD + 'https = {on = "--https"}', "https"),
    (GOOD + '[client_credentials]\nprompts = []', "client_credentials: command"),
    (GOOD + '[client_credentials]\ncommand = ["cli"]\nenv = {X = 1}', "client_credentials: env"),
    (GOOD + '[client_credentials]\ncommand = ["cli"]\nsecret = "s"', "client_credentials: unknown field(s) secret"),
    (GOOD + '[client_credentials]\ncommand = ["cli", "{secret}"]', "client_credentials: command[1]"),
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


def test_https_switch_client_credentials_and_timeout_read():
    profile = parse_profile('command = ["cli", "{https}", "--timeout", "{timeout}"]\n'
                            'https = {on = "--https", off = "--no-https"}\n'
                            '[client_credentials]\ncommand = ["cli", "--id", "{client_id}"]\n'
                            'env = {SECRET = "{client_secret}"}\n', "p.toml")
    assert profile.serves_https and not profile.https and profile.https_values == ("--no-https", "--https")
    assert profile.uses("timeout") and not profile.uses("client_secret")
    assert profile.cc_command == ("cli", "--id", "{client_id}") and profile.cc_env == (("SECRET", "{client_secret}"),)
    assert not parse_profile(GOOD, "p.toml").serves_https


@given(st.text(min_size=1), st.text(), st.sampled_from([quote_plus, lambda v: quote(v, safe="")]))
def test_strict_basic_reads_back_form_urlencoded_halves(client_id, secret, encode):
    header = "Basic " + base64.b64encode(f"{encode(client_id)}:{encode(secret)}".encode()).decode()
    assert basic_credentials_strict(header) == (client_id, secret)


def test_strict_basic_tells_raw_credentials_apart():
    raw = "Basic " + base64.b64encode(f"{AWKWARD_CLIENT['id']}:{AWKWARD_CLIENT['secret']}".encode()).decode()
    assert basic_credentials_strict(raw) != (AWKWARD_CLIENT["id"], AWKWARD_CLIENT["secret"])
    assert basic_credentials_strict("Bearer abc") is None and basic_credentials_strict("Basic !!") is None


def test_seed_gets_the_awkward_client_and_keeps_the_rest():
    seed = {"users": [{"id": "u"}], "clients": [{"id": "c"}]}
    text = seed_with_awkward_client(seed)
    clients = tomllib.loads(text)["clients"]
    assert [c["id"] for c in clients] == ["c", AWKWARD_CLIENT["id"]] and clients[1]["secret"] == AWKWARD_CLIENT["secret"]
    assert tomllib.loads(text)["users"] == [{"id": "u"}]


def test_mixup_iss_names_another_issuer():
    login = Login(scenario="mixup_iss", other_issuer="http://127.0.0.1:1/other-issuer")
    bent = bend_redirect("http://localhost:1/?code=c&state=s", login)
    assert "iss=http%3A%2F%2F127.0.0.1%3A1%2Fother-issuer" in bent and login.issued == ["c"]
