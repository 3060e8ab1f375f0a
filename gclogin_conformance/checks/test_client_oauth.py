"""Client-side requirements checked against our client's pure OAuth code (service/oauth.py)."""
from __future__ import annotations

import base64
import hashlib
import math
import string
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings, strategies as st

from service import environments, oauth
from service.errors import OAuthError, RedirectError, StateError
from service.profiles import GrantType

GROUP = "client"
ENDPOINTS = environments.resolve("mypurecloud.com")
REDIRECT = "http://127.0.0.1:8080"


def _login(grant: GrantType = GrantType.IMPLICIT) -> oauth.PendingLogin:
    return oauth.start_login(grant, client_id="cid", redirect_uri=REDIRECT, endpoints=ENDPOINTS)


def test_R1_implicit_request_has_response_type_client_id_and_state():
    """R1 — RFC 6749 §4.2.1: response_type=token, client_id and state are sent."""
    pending = _login()
    url = urlsplit(pending.authorize_url())
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://login.mypurecloud.com/oauth/authorize"
    assert query["response_type"] == ["token"]
    assert query["client_id"] == ["cid"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["state"] == [pending.state]
    assert "code_challenge" not in query


def test_R2_fragment_success_parsed_token_type_case_insensitive_extras_ignored():
    """R2 — RFC 6749 §4.2.2: access_token and token_type required, extras ignored."""
    token = oauth.parse_implicit_response(
        "#access_token=AT&token_type=BeArEr&expires_in=3600&state=S&unknown=x", "S")
    assert (token.access_token, token.token_type, token.expires_in) == ("AT", "bearer", 3600)
    assert oauth.parse_implicit_response("access_token=AT&token_type=bearer&state=S", "S").expires_in is None


@pytest.mark.parametrize("fragment, error", [
    ("token_type=bearer&state=S", RedirectError),            # no access_token
    ("access_token=AT&state=S", RedirectError),              # no token_type
    ("access_token=AT&token_type=bearer&state=T", StateError),
    ("access_token=AT&token_type=bearer", StateError),
])
def test_R2_fragment_without_required_fields_or_state_refused(fragment, error):
    """R2 — RFC 6749 §4.2.2: a missing token/type or a state not equal to ours is refused."""
    with pytest.raises(error):
        oauth.parse_implicit_response(fragment, "S")


@pytest.mark.parametrize("code", ["invalid_request", "unauthorized_client", "access_denied",
                                  "unsupported_response_type", "invalid_scope", "server_error",
                                  "temporarily_unavailable"])
def test_R3_fragment_error_reports_code_and_description(code):
    """R3 — RFC 6749 §4.2.2.1: error, error_description and error_uri are reported."""
    with pytest.raises(OAuthError) as info:
        oauth.parse_implicit_response(
            f"error={code}&error_description=Nope+here&error_uri=https%3A%2F%2Fx&state=S", "S")
    assert (info.value.error, info.value.description, info.value.uri) == (code, "Nope here", "https://x")
    assert code in str(info.value) and "Nope here" in str(info.value)


def test_R3_error_with_wrong_state_is_a_state_error():
    """R3 — RFC 6749 §4.2.2.1: an error response must carry our state too."""
    with pytest.raises(StateError):
        oauth.parse_implicit_response("error=access_denied&state=forged", "S")


def test_R3_word_error_in_a_value_is_not_an_error():
    """R3 — RFC 6749 §4.2.2.1: only an `error` parameter is an error (gc's 'contains error' bug)."""
    token = oauth.parse_implicit_response("access_token=error123&token_type=bearer&state=S&x=error", "S")
    assert token.access_token == "error123"


_UNRESERVED = set(string.ascii_letters + string.digits + "-._~")


def test_R13_verifier_length_charset_and_entropy():
    """R13 — RFC 7636 §4.1: 43–128 chars of [A-Za-z0-9-._~], high entropy."""
    verifiers = {_login(GrantType.PKCE).code_verifier for _ in range(200)}
    assert len(verifiers) == 200
    for v in verifiers:
        assert 43 <= len(v) <= 128 and set(v) <= _UNRESERVED
    assert min(len(v) for v in verifiers) * math.log2(62) >= 256


@pytest.mark.parametrize("bad", ["a" * 42, "a" * 129, "a" * 50 + " ", "a" * 50 + "/", "é" * 50])
def test_R13_out_of_spec_verifier_refused(bad):
    """R13 — RFC 7636 §4.1: verifiers outside the grammar are refused."""
    with pytest.raises(ValueError):
        oauth.code_challenge_s256(bad)


def test_R14_s256_matches_rfc7636_appendix_b():
    """R14 — RFC 7636 §4.2, Appendix B test vector."""
    assert (oauth.code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


@settings(max_examples=50)
@given(st.text(alphabet="".join(sorted(_UNRESERVED)), min_size=43, max_size=128))
def test_R14_s256_is_unpadded_base64url_sha256(verifier):
    """R14 — RFC 7636 §4.2: BASE64URL(SHA256(ASCII(verifier))) without padding."""
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert oauth.code_challenge_s256(verifier) == expected


def test_R14_pkce_request_uses_s256_never_plain():
    """R14 — RFC 7636 §4.2: the code request sends an S256 challenge of the verifier."""
    pending = _login(GrantType.PKCE)
    query = parse_qs(urlsplit(pending.authorize_url()).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [oauth.code_challenge_s256(pending.code_verifier)]
    assert pending.code_verifier not in pending.authorize_url()


def test_R20_state_unguessable():
    """R20 — RFC 6749 §10.12; RFC 9700 §4.7.1: state has ≥128 bits and never repeats."""
    states = [_login().state for _ in range(500)]
    assert len(set(states)) == len(states)
    alphabet = set("".join(states))
    for s in states:
        assert len(s) * math.log2(max(len(alphabet), 2)) >= 128


@settings(max_examples=100)
@given(st.text(min_size=0, max_size=60))
def test_R20_state_checked_exactly(other):
    """R20 — RFC 6749 §10.12: any state but exactly ours is refused."""
    expected = "A" * 43
    if other == expected:
        return
    with pytest.raises(StateError):
        oauth.check_state(other, expected)
    oauth.check_state(expected, expected)


def test_R26_code_response_from_another_issuer_refused():
    """R26 — RFC 9700 §4.4.2: an `iss` other than the login's issuer is refused (mix-up)."""
    with pytest.raises(RedirectError):
        oauth.parse_code_response("code=C&state=S&iss=https%3A%2F%2Fevil.example", "S",
                                  expected_issuer="https://login.mypurecloud.com")
    assert oauth.parse_code_response("code=C&state=S&iss=https%3A%2F%2Flogin.mypurecloud.com", "S",
                                     expected_issuer="https://login.mypurecloud.com") == "C"


def test_R26_pending_login_bound_to_its_endpoints():
    """R26 — RFC 9700 §4.4.2: a pending login keeps the issuer it started with."""
    other = environments.resolve("mypurecloud.ie")
    a = oauth.start_login(GrantType.PKCE, client_id="c", redirect_uri=REDIRECT, endpoints=ENDPOINTS)
    b = oauth.start_login(GrantType.PKCE, client_id="c", redirect_uri=REDIRECT, endpoints=other)
    assert a.authorize_url().startswith("https://login.mypurecloud.com/")
    assert b.authorize_url().startswith("https://login.mypurecloud.ie/")
    assert a.endpoints.token_url == "https://login.mypurecloud.com/oauth/token"


@pytest.mark.parametrize("env", ["http://example.com", "http://10.0.0.1:8081"])
def test_R11_plain_http_refused_unless_loopback_or_opt_in(env):
    """R11 — plain http only for loopback or with an explicit opt-in."""
    with pytest.raises(Exception, match="http"):
        environments.resolve(env)
    assert environments.resolve(env, insecure=True).login_url == env


def test_R11_genesys_environments_use_tls_and_loopback_http_allowed():
    """R11 — Genesys environments resolve to https; http is fine on loopback."""
    assert environments.resolve("eu-west-1").login_url.startswith("https://")
    assert environments.resolve("http://127.0.0.1:8081").login_url == "http://127.0.0.1:8081"


REGIONS = {
    "us-east-1": "mypurecloud.com", "us-east-2": "use2.us-gov-pure.cloud", "us-west-2": "usw2.pure.cloud",
    "ca-central-1": "cac1.pure.cloud", "sa-east-1": "sae1.pure.cloud", "mx-central-1": "mxc1.pure.cloud",
    "eu-west-1": "mypurecloud.ie", "eu-west-2": "euw2.pure.cloud", "eu-central-1": "mypurecloud.de",
    "eu-central-2": "euc2.pure.cloud", "eusc-de-east-1": "edee1.eusc-pure.cloud",
    "me-central-1": "mec1.pure.cloud", "ap-south-1": "aps1.pure.cloud",
    "ap-southeast-1": "apse1.pure.cloud", "ap-southeast-2": "mypurecloud.com.au",
    "ap-northeast-1": "mypurecloud.jp", "ap-northeast-2": "apne2.pure.cloud",
    "ap-northeast-3": "apne3.pure.cloud",
}


@pytest.mark.parametrize("region, domain", sorted(REGIONS.items()))
def test_G7_region_maps_to_login_and_api_domains(region, domain):
    """G7 — REFERENCE §5: AWS region → domain; login.<domain> and api.<domain>."""
    endpoints = environments.resolve(region)
    assert (endpoints.login_url, endpoints.api_url) == (f"https://login.{domain}", f"https://api.{domain}")
