"""Pure OAuth helpers: PKCE (R13, R14), the authorize URL (R1), redirect parsing (R2, R3, R20)."""
import dataclasses
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.environments import resolve
from service.errors import OAuthError, RedirectError, StateError
from service.oauth import (MAX_REDIRECT_LENGTH, build_authorize_url, check_state, code_challenge_s256,
                           is_valid_code_verifier, new_code_verifier, new_state, parse_code_response,
                           parse_implicit_response, parse_params, start_login, token_response_from_json)
from service.profiles import GrantType
from service.untrusted import has_control

STATE = "s" * 43
values = st.text(min_size=1, max_size=300)
#: tokens as a server sends them: no surrounding whitespace, no control character (see test_untrusted)
tokens = values.filter(lambda t: t == t.strip() and not has_control(t))


def enc(value: str) -> str:
    return quote(value, safe="")


def test_rfc7636_appendix_b_vector():
    assert code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifier_and_state_shape_and_freshness():
    verifiers = {new_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50 and all(is_valid_code_verifier(v) for v in verifiers)
    states = {new_state() for _ in range(50)}
    assert len(states) == 50 and all(len(s) >= 22 for s in states)  # ≥128 bits of 62 symbols
    with pytest.raises(ValueError):
        new_code_verifier(42)
    with pytest.raises(ValueError):
        code_challenge_s256("short")


@settings(max_examples=100)
@given(client_id=values, redirect=values, state=values, scope=st.none() | values)
def test_authorize_url_round_trips_every_value(client_id, redirect, state, scope):
    url = build_authorize_url("https://login.example/oauth/authorize", response_type="code",
                              client_id=client_id, redirect_uri=redirect, state=state,
                              code_challenge="c" * 43, scope=scope)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "login.example", "/oauth/authorize")
    assert parts.fragment == ""
    q = parse_qs(parts.query, keep_blank_values=True)
    assert q["client_id"] == [client_id] and q["redirect_uri"] == [redirect] and q["state"] == [state]
    assert q["code_challenge_method"] == ["S256"] and q["response_type"] == ["code"]
    assert q.get("scope") == ([scope] if scope else None)


def test_implicit_authorize_url_has_state_and_no_challenge():
    pending = start_login(GrantType.IMPLICIT, client_id="cid", redirect_uri="http://localhost:9",
                          endpoints=resolve("http://127.0.0.1:1"))
    q = parse_qs(urlsplit(pending.authorize_url()).query)
    assert q["response_type"] == ["token"] and q["state"] == [pending.state]
    assert "code_challenge" not in q and pending.code_verifier is None
    assert "verifier" not in repr(pending) and pending.state not in repr(pending)


def test_pkce_pending_challenge_matches_verifier():
    pending = start_login(GrantType.PKCE, client_id="cid", redirect_uri="http://localhost:9",
                          endpoints=resolve("http://127.0.0.1:1"))
    q = parse_qs(urlsplit(pending.authorize_url()).query)
    assert q["code_challenge"] == [code_challenge_s256(pending.code_verifier)]


@settings(max_examples=100)
@given(token=tokens, token_type=st.sampled_from(["bearer", "Bearer", "BEARER", "bEaReR"]),
       expires=st.none() | st.integers(0, 172800), junk=st.dictionaries(
           st.from_regex(r"x_[a-z]{1,8}", fullmatch=True), values, max_size=3),
       prefix=st.sampled_from(["", "#"]))
def test_implicit_fragment_success(token, token_type, expires, junk, prefix):
    parts = [f"access_token={enc(token)}", f"token_type={token_type}", f"state={STATE}"]
    if expires is not None:
        parts.append(f"expires_in={expires}")
    parts += [f"{k}={enc(v)}" for k, v in junk.items()]
    result = parse_implicit_response(prefix + "&".join(parts), STATE)
    assert result.access_token == token and result.token_type == "bearer"
    assert result.expires_in == expires
    # The repr does not depend on the token at all (a containment check fails by chance:
    # Hypothesis also draws the project's own literals, such as "access_token").
    assert repr(result) == repr(dataclasses.replace(result, access_token="other")) and "***" in repr(result)


def test_plus_is_a_space_and_percent_decoding():
    r = parse_implicit_response(f"access_token=a+b%2Bc&token_type=bearer&state={STATE}", STATE)
    assert r.access_token == "a b+c"


def test_empty_values_count_as_absent():
    with pytest.raises(RedirectError, match="no access_token"):
        parse_implicit_response(f"access_token=&token_type=bearer&state={STATE}", STATE)
    assert parse_params("a=&a=1") == {"a": "1"}


@pytest.mark.parametrize("fragment, error", [
    (f"access_token=t&access_token=u&token_type=bearer&state={STATE}", "repeated"),
    (f"access_token=t&token_type=mac&state={STATE}", "unsupported token_type"),
    (f"token_type=bearer&state={STATE}", "no access_token"),
    (f"access_token=t&state={STATE}", "no token_type"),
    (f"access_token=t&token_type=bearer&expires_in=soon&state={STATE}", "expires_in"),
    (f"access_token=%ff&token_type=bearer&state={STATE}", "UTF-8"),
    ("x=" + "a" * MAX_REDIRECT_LENGTH, "too long"),
])
def test_malformed_fragment(fragment, error):
    with pytest.raises(RedirectError, match=error):
        parse_implicit_response(fragment, STATE)


@pytest.mark.parametrize("fragment", [
    "access_token=t&token_type=bearer",                    # missing
    "access_token=t&token_type=bearer&state=other",        # wrong
    f"access_token=t&token_type=bearer&state={STATE}x",    # prefix match is not a match
    f"access_token=t&token_type=bearer&state={STATE.upper()}",
    "error=access_denied",                                 # an error without our state
])
def test_state_is_checked_exactly_before_anything_else(fragment):
    with pytest.raises(StateError):
        parse_implicit_response(fragment, STATE)


@pytest.mark.parametrize("code", ["invalid_request", "unauthorized_client", "access_denied",
                                  "unsupported_response_type", "invalid_scope", "server_error",
                                  "temporarily_unavailable", "something_new"])
def test_every_error_response_raises_oauth_error_with_description(code):
    with pytest.raises(OAuthError) as info:
        parse_implicit_response(f"error={code}&error_description=Nope+%3Cb%3E&error_uri=https%3A%2F%2Fx&state={STATE}",
                                STATE)
    assert info.value.error == code and info.value.description == "Nope <b>"
    assert info.value.uri == "https://x"
    with pytest.raises(OAuthError):
        parse_code_response(f"?error={code}&state={STATE}", STATE)


def test_word_error_in_a_token_is_not_an_error():
    r = parse_implicit_response(f"access_token=error&token_type=bearer&state={STATE}", STATE)
    assert r.access_token == "error"


def test_code_response():
    assert parse_code_response(f"?code=abc&state={STATE}", STATE) == "abc"
    with pytest.raises(RedirectError, match="no code"):
        parse_code_response(f"state={STATE}", STATE)
    with pytest.raises(RedirectError, match="issuer"):
        parse_code_response(f"code=a&state={STATE}&iss=https%3A%2F%2Fevil", STATE, "https://login.example")


@settings(max_examples=200)
@given(st.text(max_size=500))
def test_parsing_never_raises_anything_else(raw):
    for parse in (lambda: parse_implicit_response(raw, STATE), lambda: parse_code_response(raw, STATE)):
        try:
            parse()
        except (RedirectError, OAuthError):
            pass


@settings(max_examples=100)
@given(st.lists(st.tuples(st.sampled_from(["access_token", "token_type", "state", "error", "code",
                                           "expires_in", "error_description", "x"]),
                          st.text(max_size=30)), max_size=8))
def test_parsing_structured_garbage_never_raises_anything_else(pairs):
    raw = "&".join(f"{k}={enc(v)}" for k, v in pairs)
    try:
        parse_implicit_response(raw, STATE)
    except (RedirectError, OAuthError):
        pass


def test_check_state_rejects_empty_expected():
    with pytest.raises(StateError):
        check_state("x", "")


def test_token_endpoint_json():
    assert token_response_from_json({"access_token": "a", "token_type": "Bearer", "expires_in": 60}).expires_in == 60
    with pytest.raises(OAuthError, match="invalid_client"):
        token_response_from_json({"error": "invalid_client"})
    with pytest.raises(RedirectError):
        token_response_from_json([1])


@given(st.text(max_size=40), st.text(max_size=40))
def test_state_matches_only_the_same_non_empty_state_and_never_raises(received, expected):
    from service.oauth import state_matches

    assert state_matches(received, expected) == (bool(received) and received == expected)
    assert state_matches(None, expected) is False


def test_state_matches_a_lone_surrogate_without_raising():
    from service.oauth import state_matches

    assert state_matches("\udcff", "abc") is False
