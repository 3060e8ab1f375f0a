"""One client spec, one validation: the seed and the admin API only rename its fields."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_idp.client_spec import ClientSpec, ClientSpecError, client_spec
from mock_idp.clients_api import parse_client_body
from mock_idp.errors import ApiError, SeedError
from mock_idp.models import GRANT_TYPES
from mock_idp.seed import parse_seed

from .test_seed_and_config import CLIENT, seed_text

GOOD = {"name": "C", "grant_type": "CLIENT-CREDENTIALS"}
# ClientSpec field -> (seed key, Genesys JSON key)
KEYS = {"name": ("name", "name"), "description": ("description", "description"),
        "grant_type": ("authorized_grant_type", "authorizedGrantType"),
        "redirect_uris": ("registered_redirect_uri", "registeredRedirectUri"),
        "scope": ("scope", "scope"), "validity": ("access_token_validity_seconds",
                                                  "accessTokenValiditySeconds"),
        "roles": ("roles", "roles")}
BAD = [
    ("name", ""), ("name", "  "), ("name", 7), ("name", "a\x7fb"), ("name", "x" * 201),
    ("description", ["x"]), ("description", "line\nbreak"), ("description", "x" * 1001),
    ("grant_type", "PASSWORD"), ("grant_type", 3),
    ("redirect_uris", "http://localhost:1"), ("redirect_uris", ["http://a:1/#x"]),
    ("redirect_uris", [""]),
    ("scope", "a b"), ("scope", [1]), ("scope", [" "]), ("roles", "admin"),
    ("validity", 299), ("validity", 172801), ("validity", "600"), ("validity", True),
    ("validity", 1.5),
]


@pytest.mark.parametrize("field, value", BAD)
def test_the_spec_names_the_bad_field(field, value):
    with pytest.raises(ClientSpecError) as info:
        client_spec({**GOOD, field: value})
    assert info.value.field == field and info.value.problem


@pytest.mark.parametrize("field, value", BAD)
def test_seed_and_admin_api_report_the_same_problem(field, value):
    with pytest.raises(ClientSpecError) as spec_error:
        client_spec({**GOOD, field: value})
    problem = spec_error.value.problem
    seed_key, json_key = KEYS[field]
    with pytest.raises(SeedError) as seed_error:
        parse_seed(seed_text(clients=[{**CLIENT, seed_key: value}]), "s.toml")
    assert str(seed_error.value).endswith(f"field '{seed_key}': {problem}")
    body = {"name": "C", "authorizedGrantType": "CLIENT-CREDENTIALS", json_key: value}
    with pytest.raises(ApiError) as api_error:
        parse_client_body(body)
    assert api_error.value.message == f"{json_key}: {problem}"
    assert api_error.value.details == [{"fieldName": json_key, "errorCode": "invalid.value"}]


@pytest.mark.parametrize("field", ["name", "grant_type"])
def test_required_fields(field):
    with pytest.raises(ClientSpecError, match="is required") as info:
        client_spec({k: v for k, v in GOOD.items() if k != field})
    assert info.value.field == field


def test_a_browser_client_needs_a_redirect_uri():
    for grant in ("TOKEN", "CODE"):
        with pytest.raises(ClientSpecError, match=f"a {grant} client needs at least one"):
            client_spec({**GOOD, "grant_type": grant})


def test_long_or_structured_values_are_not_echoed():
    with pytest.raises(ClientSpecError) as info:
        client_spec({**GOOD, "grant_type": "Q" * 500})
    assert "Q" * 50 not in str(info.value) and "a str" in str(info.value)
    with pytest.raises(ClientSpecError) as info:
        client_spec({**GOOD, "validity": {"nested": [1, 2]}})
    assert "nested" not in str(info.value) and "a dict" in str(info.value)


text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF,
                             blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
               ).filter(str.strip)
specs = st.builds(
    ClientSpec, name=text, description=st.just("") | text,
    grant_type=st.sampled_from(GRANT_TYPES),
    redirect_uris=st.lists(st.sampled_from(["http://localhost:8080", "https://app.example/cb"]),
                           min_size=1, max_size=2, unique=True).map(tuple),
    scope=st.lists(text, max_size=3).map(tuple), validity=st.integers(300, 172800),
    roles=st.lists(text, max_size=2).map(tuple))


@given(specs)
def test_a_valid_spec_passes_unchanged_through_both_mappings(spec):
    raw = {name: list(v) if isinstance(v, tuple) else v for name, v in vars(spec).items()}
    assert client_spec(raw) == spec
    assert parse_client_body({KEYS[name][1]: value for name, value in raw.items()}) == spec
