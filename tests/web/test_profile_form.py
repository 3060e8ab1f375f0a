"""The new-profile form's mapping to the library's answers (the rules: tests/service/test_profile_answers.py)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service import ProfileAnswersError, profile_from_answers
from service.profile_answers import ANSWER_FIELDS
from service.web.profile_form import FIELDS, form_values

form = st.dictionaries(st.sampled_from([*FIELDS, "csrf_token", "other"]),
                       st.one_of(st.text(max_size=30), st.sampled_from(["0", "1", "2", "3", "8080", "y"])))


@settings(max_examples=100)
@given(form)
def test_any_form_gives_every_field_as_stripped_text_and_the_library_answers(data):
    values = form_values(data)
    assert set(values) == set(ANSWER_FIELDS)
    assert all(v == v.strip() for v in values.values())
    try:
        profile_from_answers(values)
    except ProfileAnswersError as exc:
        assert set(exc.errors) <= set(FIELDS)


def test_a_ticked_box_is_a_secure_redirect():
    profile = profile_from_answers(form_values({"grant_type": "2", "client_id": "c", "environment": "ap-southeast-2",
                                                "redirect_port": " 8080 ", "secure_login": "y"}))
    assert profile.environment == "mypurecloud.com.au"
    assert profile.redirect_uri == "https://localhost:8080" and profile.secure_login_enabled
