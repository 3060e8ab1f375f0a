"""The new-profile form mapping: gc's rules, and only FormErrors for bad input."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.profiles import GrantType
from service.web.profile_form import FIELDS, FormErrors, form_values, profile_from_fields

fields = st.fixed_dictionaries({name: st.one_of(st.just(""), st.text(max_size=30),
                                                st.sampled_from(["0", "1", "2", "3", "8080", "y"]))
                                for name in FIELDS})


@settings(max_examples=100)
@given(fields)
def test_any_form_gives_a_profile_or_field_errors(data):
    try:
        profile = profile_from_fields(form_values(data))
    except FormErrors as exc:
        assert exc.errors and set(exc.errors) <= set(FIELDS) | {"form"}
        return
    if profile.grant_type is GrantType.NONE:
        assert profile.access_token
    else:
        assert profile.client_id
    if profile.grant_type is GrantType.CLIENT_CREDENTIALS:
        assert profile.client_secret


def test_gc_defaults_for_empty_name_and_environment():
    profile = profile_from_fields({"grant_type": "3", "client_id": "c"})
    assert profile.name == "DEFAULT" and profile.environment == "mypurecloud.com"
    assert profile.redirect_uri == "http://localhost:0"


def test_region_becomes_its_domain_and_secure_redirect():
    profile = profile_from_fields({"grant_type": "2", "client_id": "c", "environment": "ap-southeast-2",
                                   "redirect_port": "8080", "secure_login": "y"})
    assert profile.environment == "mypurecloud.com.au"
    assert profile.redirect_uri == "https://localhost:8080" and profile.secure_login_enabled


def test_pkce_never_stores_a_secret():
    profile = profile_from_fields({"grant_type": "3", "client_id": "c", "client_secret": "s"})
    assert profile.client_secret == ""


def test_all_errors_are_reported_at_once():
    try:
        profile_from_fields({"name": "bad name", "environment": "??", "grant_type": "1"})
    except FormErrors as exc:
        assert set(exc.errors) == {"name", "environment", "client_id", "client_secret"}
    else:
        raise AssertionError("FormErrors expected")
