"""Profile ⇄ TOML: gc's keys, round trips, and edits that touch nothing else."""
from dataclasses import replace
from datetime import datetime, timedelta, UTC

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from service.errors import InvalidValueError
from service.profiles import (GrantType, Profile, TokenData, load_profiles, masked, parse_grant_type,
                              profile_from_table, profile_to_table, remove_profile, set_profile)
from service.untrusted import has_control

GC_FILE = '''\
# written by gc
[DEFAULT]
grant_type = "1"
client_credentials = "cid"
client_secret = "s3cret"
environment = "mypurecloud.ie"
access_token = ""
secure_login_enabled = false
oauth_token_data = '{"access_token":"tok","token_type":"bearer","expires_in":86400,"error":"","oauth_token_expiry":"2031-01-02T03:04:05.123456789Z"}'
logging_enabled = true   # a comment gc users keep
output_format = "JSON"
proxy_pathparams = "{login: /x, other: /y}"

[pkce]
grant_type = "3"
client_credentials = "pid"
redirect_uri = "https://localhost:8080"
secure_login_enabled = true
environment = "usw2.pure.cloud"
'''

names = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)
text = st.text(max_size=40)
#: secrets as they are kept: stripped, no control character (Profile refuses others, test_untrusted)
secrets = text.filter(lambda t: t == t.strip() and not has_control(t))
ports = st.integers(0, 65535)
expiries = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1),
                        timezones=st.just(UTC))
tokens = st.builds(TokenData, access_token=secrets, token_type=st.sampled_from(["bearer", "Bearer", ""]),
                   expires_in=st.integers(0, 172800), error=text, expiry=st.none() | expiries)
extra_keys = st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True).filter(
    lambda k: k not in {"grant_type", "client_credentials", "client_secret", "redirect_uri", "environment",
                        "access_token", "secure_login_enabled", "oauth_token_data", "insecure_http_enabled"})
extra_values = st.one_of(text, st.booleans(), st.integers(-2**31, 2**31), st.lists(text, max_size=3))
profiles = st.builds(
    Profile, name=names, grant_type=st.sampled_from(list(GrantType)), client_id=text, client_secret=secrets,
    redirect_uri=st.one_of(st.just(""), st.builds(lambda s, p: f"{s}://localhost:{p}",
                                                  st.sampled_from(["http", "https"]), ports)),
    environment=st.sampled_from(["", "mypurecloud.com", "eu-west-1", "http://127.0.0.1:8081"]),
    access_token=secrets, secure_login_enabled=st.booleans(), token_data=st.none() | tokens,
    insecure=st.booleans(), extra=st.dictionaries(extra_keys, extra_values, max_size=4))


@settings(max_examples=100)
@given(profiles)
def test_profile_to_toml_to_profile_is_identity(profile):
    doc = tomlkit.document()
    set_profile(doc, profile)
    reparsed = tomlkit.parse(doc.as_string())
    assert load_profiles(reparsed) == {profile.name: profile}


@settings(max_examples=60)
@given(profiles)
def test_editing_one_profile_keeps_every_other_byte(profile):
    doc = tomlkit.parse(GC_FILE)
    original_pkce = GC_FILE[GC_FILE.index("[pkce]"):]
    original_default = GC_FILE[:GC_FILE.index("[pkce]")]
    if profile.name == "pkce":
        return
    set_profile(doc, profile)
    out = doc.as_string()
    assert out.startswith(original_default)
    assert original_pkce in out
    assert load_profiles(tomlkit.parse(out))[profile.name] == profile


def test_gc_file_reads_and_unknown_keys_and_comments_survive_an_edit():
    doc = tomlkit.parse(GC_FILE)
    found = load_profiles(doc)
    default = found["DEFAULT"]
    assert default.grant_type is GrantType.CLIENT_CREDENTIALS and default.client_id == "cid"
    assert default.token_data.expiry == datetime(2031, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert default.extra["output_format"] == "JSON"
    assert found["pkce"].redirect_port == 8080
    set_profile(doc, default.with_token(TokenData.issued("new", "bearer", 60)))
    out = doc.as_string()
    assert "logging_enabled = true   # a comment gc users keep" in out
    assert out.startswith("# written by gc\n[DEFAULT]\ngrant_type = \"1\"")
    assert out.count("oauth_token_data") == 1
    assert len(out.splitlines()) == len(GC_FILE.splitlines())


def test_remove_profile_leaves_the_other():
    doc = tomlkit.parse(GC_FILE)
    assert remove_profile(doc, "DEFAULT")
    assert doc.as_string().endswith(GC_FILE[GC_FILE.index("[pkce]"):])
    assert not remove_profile(doc, "DEFAULT")


@pytest.mark.parametrize("table, key", [
    ({"grant_type": "7"}, "grant_type"),
    ({"grant_type": "01"}, "grant_type"),
    ({"grant_type": True}, "grant_type"),
    ({"redirect_uri": "http://localhost:70000"}, "redirect_uri"),
    ({"redirect_uri": "http://evil.example:8080"}, "redirect_uri"),
    ({"environment": "xx-nowhere-1"}, "environment"),
    ({"secure_login_enabled": "yes"}, "secure_login_enabled"),
    ({"client_credentials": 5}, "client_credentials"),
    ({"bad name": {}}, "name"),
])
def test_invalid_values_name_the_key_and_profile(table, key):
    name = "work"
    if key == "name":
        (name, table), = [("x\x07y", {})]
    with pytest.raises(InvalidValueError) as info:
        profile_from_table(name, table)
    assert info.value.key == key
    assert str(info.value).startswith(f"profile {name!r}: {key}: ")


@pytest.mark.parametrize("raw, key", [
    ("{not json", "oauth_token_data"),
    ('{"oauth_token_expiry": "tomorrow"}', "oauth_token_data.oauth_token_expiry"),
    ('["a list"]', "oauth_token_data"),
    (42, "oauth_token_data"),
])
def test_unreadable_token_cache_counts_as_no_token_and_says_why(raw, key):
    """A cache is only a cache: it must not lock the profile (login replaces it, logout drops it)."""
    doc = tomlkit.parse(f'[work]\ngrant_type = "3"\nclient_credentials = "c"\nkeep = 1\n'
                        f"oauth_token_data = {tomlkit.item(raw).as_string()}\n")
    profile = profile_from_table("work", doc["work"])
    assert profile.token_data is None
    assert profile.token_error.startswith(f"{key}: ")
    assert profile.grant_type is GrantType.PKCE and profile.client_id == "c"
    set_profile(doc, profile)  # saving drops the unreadable cache and keeps the rest
    assert "oauth_token_data" not in doc.as_string() or doc["work"]["oauth_token_data"] == ""
    assert doc["work"]["keep"] == 1
    fresh = profile.with_token(TokenData.issued("t", "bearer", 60))
    assert fresh.token_error == "" and fresh == replace(profile, token_data=fresh.token_data)


NAMES_GC_MAY_WRITE = ["weird name", "my.org", "é-org", "x\"y", "a'b", "a" * 128]


@pytest.mark.parametrize("name", NAMES_GC_MAY_WRITE)
def test_every_name_that_loads_can_be_saved(name):
    """gc writes any name; the loader and set_profile apply one rule, so a token can be cached."""
    doc = tomlkit.document()
    doc[name] = tomlkit.table()
    doc[name]["grant_type"] = "1"
    doc = tomlkit.parse(doc.as_string())
    (profile,) = load_profiles(doc).values()
    set_profile(doc, profile.with_token(TokenData.issued("t", "bearer", 60)))
    assert load_profiles(tomlkit.parse(doc.as_string()))[name].token_data.access_token == "t"


@pytest.mark.parametrize("name", ["", " lead", "trail ", "tab\there", "bell\x07", "a" * 129])
def test_names_that_cannot_be_saved_do_not_load_either(name):
    doc = tomlkit.document()
    doc[name] = tomlkit.table()
    with pytest.raises(InvalidValueError) as loading:
        load_profiles(tomlkit.parse(doc.as_string()))
    with pytest.raises(InvalidValueError) as saving:
        set_profile(tomlkit.document(), Profile(name=name))
    assert loading.value.key == saving.value.key == "name"


@settings(max_examples=60)
@given(st.text(min_size=1, max_size=40))
def test_load_and_save_agree_on_names(name):
    doc = tomlkit.document()
    doc[name] = tomlkit.table()
    try:
        loaded = load_profiles(tomlkit.parse(doc.as_string()))
    except InvalidValueError:
        loaded = None
    try:
        set_profile(tomlkit.document(), Profile(name=name))
        saved = True
    except InvalidValueError:
        saved = False
    assert (loaded is not None) == saved


@pytest.mark.parametrize("value, grant", [("0", GrantType.NONE), ("client-credentials", GrantType.CLIENT_CREDENTIALS),
                                          ("Implicit", GrantType.IMPLICIT), ("3", GrantType.PKCE), (1, GrantType.CLIENT_CREDENTIALS)])
def test_parse_grant_type(value, grant):
    assert parse_grant_type(value) is grant


def test_parse_grant_type_rejects():
    with pytest.raises(InvalidValueError, match="--grant-type"):
        parse_grant_type("password", key="--grant-type")


def test_token_validity_uses_expiry_with_skew():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    token = TokenData.issued("t", "bearer", 3600, now)
    assert token.is_valid(now) and token.is_valid(now + timedelta(minutes=59))
    assert not token.is_valid(now + timedelta(seconds=3590))
    assert not TokenData("t", "bearer", 60, "error", token.expiry).is_valid(now)
    assert not TokenData("t", "bearer", 60, "", None).is_valid(now)


def test_masked_never_shows_secrets():
    profile = Profile(name="x", client_secret="s3cret-value", access_token="tok-value",
                      token_data=TokenData.issued("cached-token", "bearer", 60))
    shown = str(masked(profile))
    assert "s3cret-value" not in shown and "tok-value" not in shown and "cached-token" not in shown


def test_new_table_written_with_gc_keys():
    table = profile_to_table(Profile(name="n", grant_type=GrantType.PKCE, client_id="c",
                                     redirect_uri="http://localhost:0", environment="mypurecloud.com"))
    assert dict(table) == {"grant_type": "3", "client_credentials": "c", "redirect_uri": "http://localhost:0",
                           "environment": "mypurecloud.com"}
