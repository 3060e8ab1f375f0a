"""gc's new-profile rules (REFERENCE §2), as one library function the CLI and the web form share."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service import GrantType, InvalidValueError, ProfileAnswersError, profile_from_answers
from service.profile_answers import ANSWER_FIELDS

answer = st.one_of(st.none(), st.booleans(), st.integers(-10, 70000), st.sampled_from(list(GrantType)),
                   st.text(max_size=20), st.sampled_from(["", "0", "1", "2", "3", "pkce", "8080", "y", "eu-west-1"]))
answers = st.dictionaries(st.sampled_from(ANSWER_FIELDS), answer)
existing = st.lists(st.sampled_from(["DEFAULT", "my org", "work"]), max_size=3)


@settings(max_examples=300)
@given(answers, existing)
def test_any_answers_give_a_profile_or_only_field_errors(given_answers, names):
    try:
        profile = profile_from_answers(given_answers, existing=names)
    except ProfileAnswersError as exc:
        assert exc.errors and set(exc.errors) <= set(ANSWER_FIELDS)
        assert all(isinstance(m, str) and m for m in exc.errors.values())
        assert str(exc).startswith(f"{next(iter(exc.errors))}: ")  # the one line names a field
        return
    if profile.grant_type is GrantType.NONE:
        assert profile.access_token and not profile.client_id
    else:
        assert profile.client_id
    if profile.grant_type is GrantType.CLIENT_CREDENTIALS:
        assert profile.client_secret
    if profile.grant_type is GrantType.PKCE:
        assert not profile.client_secret
    assert bool(profile.redirect_uri) == profile.grant_type.is_browser
    assert profile.name not in names or given_answers.get("overwrite")


@settings(max_examples=200)
@given(answers, answers, existing)
def test_a_fields_error_depends_only_on_the_answers_gc_asks_before_it(first, later, names):
    """What lets the CLI check each answer as it is given, in gc's order."""
    for cut, field in enumerate(ANSWER_FIELDS):
        asked = {f: first[f] for f in ANSWER_FIELDS[:cut + 1] if f in first}
        more = {**asked, **{f: v for f, v in later.items() if f not in ANSWER_FIELDS[:cut + 1]}}
        assert _errors(asked, names).get(field) == _errors(more, names).get(field)


@settings(max_examples=100)
@given(st.text(min_size=1, max_size=30))
def test_secrets_never_appear_in_the_messages(secret):
    secret = f"S3cret-{secret}"
    bad = {"name": "bad name!", "access_token": secret * 3, "client_secret": secret * 3, "grant_type": "9"}
    with pytest.raises(ProfileAnswersError) as caught:
        profile_from_answers(bad)
    assert secret * 3 not in str(caught.value) and all(secret * 3 not in m for m in caught.value.errors.values())


def _errors(given_answers, names):
    try:
        profile_from_answers(given_answers, existing=names)
    except ProfileAnswersError as exc:
        return exc.errors
    return {}


@pytest.mark.parametrize(("answers", "field", "message"), [
    ({"grant_type": "0"}, "grant_type", "grant type 0 (None) is only possible with an access token"),
    ({}, "grant_type", "choose a grant type (0-3)"),
    ({"grant_type": "7"}, "grant_type", "unknown grant type '7'"),
    ({"grant_type": True}, "grant_type", "choose a grant type (0-3)"),
    ({"grant_type": "1", "client_secret": "s"}, "client_id", "Client ID is required for Client Credentials."),
    ({"grant_type": "1", "client_id": "c"}, "client_secret", "Client secret is required for Client Credentials."),
    ({"grant_type": "2"}, "client_id", "Client ID is required for Implicit Grant."),
    ({"grant_type": "3", "client_id": "  "}, "client_id", "Client ID is required for PKCE Grant."),
    ({"grant_type": "3", "client_id": "c", "redirect_port": 70000}, "redirect_port",
     "port 70000 is not in 0-65535"),
    ({"grant_type": "3", "client_id": "c", "redirect_port": "70000"}, "redirect_port",
     "port 70000 is not in 0-65535"),
    ({"grant_type": "2", "client_id": "c", "redirect_port": "-1"}, "redirect_port", "port -1 is not in 0-65535"),
    ({"grant_type": "2", "client_id": "c", "redirect_port": "eighty"}, "redirect_port",
     "port 'eighty' is not in 0-65535"),
    ({"grant_type": "3", "client_id": "c", "redirect_port": True}, "redirect_port", "port True is not in 0-65535"),
    ({"name": "bad name!", "grant_type": "3", "client_id": "c"}, "name", "must be 1-64 of A-Z a-z 0-9 _ -"),
    ({"name": 7, "grant_type": "3", "client_id": "c"}, "name", "name must be text"),
    ({"environment": "eu-nowhere-9", "grant_type": "3", "client_id": "c"}, "environment", "unknown region"),
    ({"name": "work", "grant_type": "3", "client_id": "c"}, "overwrite", "Profile name work already exists"),
])
def test_each_rule_names_its_field(answers, field, message):
    with pytest.raises(ProfileAnswersError) as caught:
        profile_from_answers(answers, existing=["work"])
    assert message in caught.value.errors[field]
    assert isinstance(caught.value, InvalidValueError)


def test_gc_defaults_for_an_empty_name_and_environment():
    profile = profile_from_answers({"name": "", "environment": None, "grant_type": "3", "client_id": "c"})
    assert (profile.name, profile.environment, profile.redirect_uri) == ("DEFAULT", "mypurecloud.com",
                                                                         "http://localhost:0")


def test_each_grant_keeps_only_its_fields():
    base = {"client_id": " c ", "client_secret": "s", "access_token": "t", "redirect_port": "8080",
            "secure_login": "y"}
    cc = profile_from_answers({**base, "grant_type": GrantType.CLIENT_CREDENTIALS})
    implicit = profile_from_answers({**base, "grant_type": "implicit"})
    pkce = profile_from_answers({**base, "grant_type": 3})
    none = profile_from_answers({**base, "grant_type": "0"})
    assert (cc.client_id, cc.client_secret, cc.redirect_uri) == ("c", "s", "")
    assert (implicit.client_secret, implicit.redirect_uri, implicit.secure_login_enabled) == (
        "s", "https://localhost:8080", True)
    assert (pkce.client_secret, pkce.redirect_uri) == ("", "https://localhost:8080")
    assert (none.client_id, none.client_secret, none.access_token) == ("", "", "t")
    assert profile_from_answers({"grant_type": "2", "client_id": "c"}).client_secret == ""


def test_an_existing_name_is_kept_as_it_is_with_overwrite():
    answers = {"name": "my org", "grant_type": "3", "client_id": "c"}
    with pytest.raises(ProfileAnswersError) as caught:
        profile_from_answers(answers)
    assert set(caught.value.errors) == {"name"}  # gc's odd names only for a profile that exists
    with pytest.raises(ProfileAnswersError) as caught:
        profile_from_answers(answers, existing=["my org"])
    assert set(caught.value.errors) == {"overwrite"}
    assert profile_from_answers({**answers, "overwrite": True}, existing=["my org"]).name == "my org"


def test_every_error_is_reported_at_once_in_gc_order():
    with pytest.raises(ProfileAnswersError) as caught:
        profile_from_answers({"grant_type": "1", "environment": "??", "name": "bad name"})
    assert list(caught.value.errors) == ["name", "environment", "client_id", "client_secret"]
    assert str(caught.value).endswith("(also wrong: environment, client_id, client_secret)")
