"""Server-side requirements and Genesys behaviours, checked against the target's IdP and API."""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from tests.conformance.idp_driver import TIMEOUT

SIDE = "server"
PORT = 47123                      # registered; nothing listens (redirects are never followed)
REDIRECT = f"http://127.0.0.1:{PORT}"
USER_CONTEXT = ("This request requires a user context. Client credentials cannot be used for "
                "requests to this resource.")


def _verifier() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _fragment(response: requests.Response) -> dict[str, str]:
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


def _query(response: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def _assert_no_redirect(response: requests.Response) -> None:
    assert response.status_code >= 400, response.status_code
    assert "Location" not in response.headers


@pytest.fixture(scope="module")
def clients(idp, target):
    if not target.is_mock:
        return None
    uris = [REDIRECT, f"http://localhost:{PORT}"]
    return {"TOKEN": idp.create_client("TOKEN", uris), "CODE": idp.create_client("CODE", uris)}


@pytest.fixture
def implicit(clients, mock_only):
    return clients["TOKEN"]


@pytest.fixture
def pkce(clients, mock_only):
    return clients["CODE"]


def _pkce_code(idp, client, redirect=REDIRECT):
    verifier, challenge = _verifier()
    state = secrets.token_urlsafe(32)
    done = idp.login(response_type="code", client_id=client["id"], redirect_uri=redirect, state=state,
                     code_challenge=challenge, code_challenge_method="S256")
    assert done.status_code in (302, 303), done.text[:300]
    query = _query(done)
    assert query["state"] == state
    return query["code"], verifier


def _exchange(idp, client, code, verifier, redirect=REDIRECT) -> requests.Response:
    return requests.post(idp.base_url + "/oauth/token", timeout=TIMEOUT, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "code_verifier": verifier, "client_id": client["id"]})


# --- R1–R4: the authorization endpoint --------------------------------------------------------

def test_R1_implicit_request_shows_login_and_requires_client_id(idp, implicit):
    """R1 — RFC 6749 §4.2.1: response_type=token + client_id gives the login page; no client_id, no redirect."""
    page = idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=REDIRECT, state="s")
    assert page.status_code == 200 and 'type="password"' in page.text
    _assert_no_redirect(idp.authorize(response_type="token", redirect_uri=REDIRECT, state="s"))


def test_R2_implicit_success_fragment_has_token_type_and_exact_state(idp, implicit):
    """R2 — RFC 6749 §4.2.2: #access_token, token_type=bearer, expires_in and our exact state."""
    state = "odd state/+=&é" + secrets.token_urlsafe(8)
    done = idp.login(response_type="token", client_id=implicit["id"], redirect_uri=REDIRECT, state=state)
    assert done.status_code in (302, 303)
    location = urlsplit(done.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == REDIRECT and not location.query
    fragment = _fragment(done)
    assert fragment["state"] == state
    assert fragment["token_type"].lower() == "bearer" and fragment["access_token"]
    assert int(fragment["expires_in"]) > 0
    me = idp.api("GET", "/api/v2/users/me", fragment["access_token"])
    assert me.status_code == 200 and me.json()["id"] == idp.user["id"]


def test_R3_unsupported_response_type_redirects_error_with_state(idp, implicit):
    """R3 — RFC 6749 §4.2.2.1: a valid client + redirect_uri gets error=unsupported_response_type and state."""
    response = idp.authorize(response_type="id_token", client_id=implicit["id"], redirect_uri=REDIRECT,
                             state="st8")
    assert response.status_code in (302, 303)
    params = {**_query(response), **_fragment(response)}
    assert params["error"] in ("unsupported_response_type", "unauthorized_client")
    assert params["state"] == "st8"


def test_R3_invalid_scope_redirects_error_with_state(idp, implicit):
    """R3 — RFC 6749 §4.2.2.1: a scope the client may not have gives error=invalid_scope with state."""
    response = idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=REDIRECT,
                             state="st9", scope="no-such-scope")
    assert response.status_code in (302, 303)
    params = _fragment(response)
    assert params["error"] == "invalid_scope" and params["state"] == "st9"


def test_R4_unknown_client_shows_error_without_redirect(idp):
    """R4 — RFC 6749 §4.1.2.1, §4.2.2.1: an unknown client_id gets an error page, never a redirect."""
    _assert_no_redirect(idp.authorize(response_type="token", client_id="00000000-0000-0000-0000-000000000000",
                                      redirect_uri=REDIRECT, state="s"))


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1:47999", "https://evil.example/",
                                          "http://127.0.0.1:47123/other", ""])
def test_R4_unregistered_redirect_uri_shows_error_without_redirect(idp, implicit, redirect_uri):
    """R4 — RFC 6749 §3.1.2.4: an unregistered (or, with several registered, missing) redirect_uri: no redirect."""
    params = {"response_type": "token", "client_id": implicit["id"], "state": "s"}
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    _assert_no_redirect(idp.authorize(**params))


# --- R8–R12: the token endpoint ---------------------------------------------------------------

def test_R8_server_form_urldecodes_basic_credentials(idp, target):
    """R8 — RFC 6749 §2.3.1: id and secret are form-urlencoded inside Basic; the server decodes them."""
    client = idp.admin_client
    every_char = lambda s: "".join(f"%{b:02X}" for b in s.encode())  # noqa: E731
    raw = f"{every_char(client['id'])}:{every_char(client['secret'])}".encode()
    response = requests.post(idp.base_url + "/oauth/token", data={"grant_type": "client_credentials"},
                             headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
                             timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    wrong = idp.token(client["id"], client["secret"] + "x")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_R9_two_authentication_methods_refused(idp, target):
    """R9 — RFC 6749 §2.3: a request using Basic and client_secret in the body is refused."""
    client = idp.admin_client
    response = requests.post(idp.base_url + "/oauth/token", auth=(client["id"], client["secret"]),
                             data={"grant_type": "client_credentials", "client_id": client["id"],
                                   "client_secret": client["secret"]}, timeout=TIMEOUT)
    assert response.status_code in (400, 401) and response.json()["error"] in ("invalid_request", "invalid_client")


def test_R9_credentials_in_url_refused(idp, mock_only):
    """R9 — RFC 6749 §2.3.1: client credentials in the URL query are never accepted (mock only: no secret in a real URL)."""
    client = idp.admin_client
    response = requests.post(idp.base_url + "/oauth/token?client_id=" + quote(client["id"]) + "&client_secret="
                             + quote(client["secret"]), data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert response.status_code in (400, 401)
    assert "access_token" not in response.text


def test_R10_client_credentials_token_has_no_refresh_token(idp, target):
    """R10 — RFC 6749 §4.4.3: a bearer token with expires_in, and no refresh token."""
    response = idp.token(idp.admin_client["id"], idp.admin_client["secret"])
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"].lower() == "bearer" and body["access_token"] and body["expires_in"] > 0
    assert "refresh_token" not in body


def test_R10_unsupported_grant_type_refused(idp, target):
    """R10 — RFC 6749 §5.2: grant types the client does not have are refused (unsupported/unauthorized)."""
    response = idp.token(idp.admin_client["id"], idp.admin_client["secret"], grant_type="password",
                         username="x", password="y")
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("unsupported_grant_type", "unauthorized_client", "invalid_grant")


@pytest.mark.parametrize("good", [True, False], ids=["success", "error"])
def test_R12_token_responses_not_cacheable(idp, target, good):
    """R12 — RFC 6749 §5.1, §5.2: Cache-Control: no-store and Pragma: no-cache on success and error."""
    client = idp.admin_client
    response = idp.token(client["id"], client["secret"] if good else "wrong-secret")
    assert response.status_code == (200 if good else 401)
    assert "no-store" in response.headers.get("Cache-Control", "")
    assert response.headers.get("Pragma") == "no-cache"


# --- R13–R14, G8: PKCE at the server ----------------------------------------------------------

def test_R13_server_refuses_out_of_spec_verifier(idp, pkce):
    """R13 — RFC 7636 §4.1: a 42-character verifier is refused even if it hashes right."""
    short = "a" * 42
    challenge = base64.urlsafe_b64encode(hashlib.sha256(short.encode()).digest()).rstrip(b"=").decode()
    done = idp.login(response_type="code", client_id=pkce["id"], redirect_uri=REDIRECT, state="s",
                     code_challenge=challenge, code_challenge_method="S256")
    if done.status_code in (302, 303) and "code" in _query(done):
        response = _exchange(idp, pkce, _query(done)["code"], short)
        assert response.status_code == 400 and "access_token" not in response.text
    else:  # refusing the challenge up front is fine too, as long as no code is issued
        assert "code=" not in done.headers.get("Location", "")


def test_R14_s256_verifier_checked_at_exchange(idp, pkce):
    """R14 — RFC 7636 §4.6: the right verifier gets a token; a wrong one gets invalid_grant."""
    code, verifier = _pkce_code(idp, pkce)
    wrong = _exchange(idp, pkce, code, _verifier()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code, verifier = _pkce_code(idp, pkce)
    good = _exchange(idp, pkce, code, verifier)
    assert good.status_code == 200 and good.json()["token_type"].lower() == "bearer"
    assert "no-store" in good.headers["Cache-Control"]


@pytest.mark.parametrize("extra", [{"code_challenge_method": "plain"}, {}], ids=["plain", "missing"])
def test_R14_plain_or_missing_challenge_refused(idp, pkce, extra):
    """R14 — RFC 7636 §4.2; RFC 9700 §2.1.1: `plain` or no challenge: no code is issued."""
    params = {"response_type": "code", "client_id": pkce["id"], "redirect_uri": REDIRECT, "state": "s", **extra}
    if extra:
        params["code_challenge"] = "x" * 43
    response = idp.authorize(**params)
    if response.status_code in (302, 303):
        query = _query(response)
        assert query.get("error") == "invalid_request" and "code" not in query
    else:
        assert response.status_code >= 400


def test_G8_authorization_code_single_use_and_bound_to_redirect_uri(idp, pkce):
    """G8 — RFC 6749 §4.1.2, §4.1.3: a code works once, and only with its redirect_uri."""
    code, verifier = _pkce_code(idp, pkce)
    assert _exchange(idp, pkce, code, verifier, redirect=f"http://localhost:{PORT}").status_code == 400
    code, verifier = _pkce_code(idp, pkce)
    assert _exchange(idp, pkce, code, verifier).status_code == 200
    again = _exchange(idp, pkce, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


# --- R16–R17, G4, R27: redirect URI matching ------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_R16_loopback_ip_and_localhost_registrations_both_work(idp, implicit, host):
    """R16 — RFC 8252 §7.3, §8.3: 127.0.0.1 (preferred) and localhost (Genesys docs) both accepted."""
    done = idp.login(response_type="token", client_id=implicit["id"], redirect_uri=f"http://{host}:{PORT}",
                     state="s")
    assert done.status_code in (302, 303) and done.headers["Location"].startswith(f"http://{host}:{PORT}")


def test_R17_port_must_match_by_default(idp, implicit):
    """R17 — Genesys behaviour: the loopback port must match the registered one (RFC 8252 §7.3 relaxed off)."""
    _assert_no_redirect(idp.authorize(response_type="token", client_id=implicit["id"],
                                      redirect_uri=f"http://127.0.0.1:{PORT + 1}", state="s"))


def test_R17_any_port_rule_when_switched_on(tmp_path, internals_only):
    """R17 — RFC 8252 §7.3: with MOCK_IDP_LOOPBACK_ANY_PORT the mock accepts any port on a loopback IP."""
    from tests.conformance.conftest import in_process_idp
    from tests.conformance.idp_driver import Idp, default_seed

    with in_process_idp(tmp_path, LOOPBACK_ANY_PORT=True) as base:
        other = Idp(base, base, default_seed())
        client = other.create_client("TOKEN", [REDIRECT])
        done = other.login(response_type="token", client_id=client["id"],
                           redirect_uri=f"http://127.0.0.1:{PORT + 7}", state="s")
        assert done.status_code in (302, 303)
        assert done.headers["Location"].startswith(f"http://127.0.0.1:{PORT + 7}#")
        _assert_no_redirect(other.authorize(response_type="token", client_id=client["id"],
                                            redirect_uri=f"http://127.0.0.1:{PORT + 7}/x", state="s"))


@pytest.mark.parametrize("variant", [f"{REDIRECT}/", f"https://127.0.0.1:{PORT}", f"{REDIRECT}?x=1",
                                     f"http://127.0.0.2:{PORT}", f"http://127.0.0.1:0{PORT}",
                                     f"http://LOCALHOST.:{PORT}", f"{REDIRECT}#frag"])
def test_G4_redirect_uri_matched_exactly(idp, implicit, variant):
    """G4 — REFERENCE §1: the redirect_uri must equal a registered one (scheme, host, port, path)."""
    _assert_no_redirect(idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=variant,
                                      state="s"))


@pytest.mark.parametrize("evil", ["https://evil.example", "//evil.example", f"{REDIRECT}@evil.example",
                                  "javascript:alert(1)"])
def test_R27_authorize_never_redirects_off_registered_uris(idp, implicit, evil):
    """R27 — RFC 9700 §4.11.1: no open redirect through the authorization endpoint."""
    _assert_no_redirect(idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=evil,
                                      state="s"))


# --- G1–G6: the Genesys API ---------------------------------------------------------------------

def test_G1_users_me_with_client_credentials_needs_user_context(idp, target):
    """G1 — REFERENCE §1 step 4, §8: a client-credentials token on users/me gets the user-context error."""
    response = idp.api("GET", "/api/v2/users/me", idp.cc_token())
    assert 400 <= response.status_code < 500 and response.status_code != 401
    assert response.json()["message"] == USER_CONTEXT


@pytest.mark.parametrize("auth", ["Bearer not-a-real-token", None], ids=["invalid", "missing"])
def test_G2_bad_bearer_gets_401_bad_credentials_with_correlation_id(idp, target, auth):
    """G2 — REFERENCE §8: 401 {message: 'Invalid login credentials.', code: bad.credentials} + ININ-Correlation-Id."""
    headers = {"Authorization": auth} if auth else {}
    response = requests.get(idp.api_url + "/api/v2/users/me", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    body = response.json()
    assert (body["code"], body["status"], body["message"]) == ("bad.credentials", 401, "Invalid login credentials.")
    assert response.headers["ININ-Correlation-Id"] == body["contextId"]


@pytest.mark.parametrize("validity, ok", [(299, False), (300, True), (172800, True), (172801, False)])
def test_G3_token_lifetime_bounds_300_to_172800(idp, mock_only, validity, ok):
    """G3 — REFERENCE §7: accessTokenValiditySeconds must be 300..172800; tokens last exactly that long."""
    body = {"name": "conformance-lifetime", "authorizedGrantType": "CLIENT-CREDENTIALS",
            "accessTokenValiditySeconds": validity}
    response = idp.api("POST", "/api/v2/oauth/clients", idp.cc_token(), json=body)
    if not ok:
        assert response.status_code == 400
        assert "accessTokenValiditySeconds" in response.text
        return
    assert response.status_code in (200, 201), response.text
    client = response.json()
    token = idp.token(client["id"], client["secret"])
    assert token.json()["expires_in"] == validity


def test_G5_delete_tokens_me_revokes_the_token(idp, target):
    """G5 — REFERENCE §4: DELETE /api/v2/tokens/me revokes; the token then gets 401 bad.credentials."""
    token = idp.cc_token()
    assert idp.api("GET", "/api/v2/users/me", token).status_code != 401
    deleted = idp.api("DELETE", "/api/v2/tokens/me", token)
    assert 200 <= deleted.status_code < 300
    after = idp.api("GET", "/api/v2/users/me", token)
    assert after.status_code == 401 and after.json()["code"] == "bad.credentials"


@pytest.mark.parametrize("method, path, auth", [("GET", "/api/v2/no-such-resource", True),
                                                ("GET", "/api/v2/users/me", False),
                                                ("GET", "/api/v2/users/me", True)])
def test_G6_api_error_body_shape(idp, target, method, path, auth):
    """G6 — REFERENCE §8: errors are {message, code, status, contextId, details, errors}."""
    response = idp.api(method, path, idp.cc_token() if auth else None)
    assert response.status_code >= 400
    body = response.json()
    assert {"message", "code", "status", "contextId", "details", "errors"} <= set(body)
    assert body["status"] == response.status_code
    assert isinstance(body["details"], list) and isinstance(body["errors"], list)
    assert response.headers.get("ININ-Correlation-Id") == body["contextId"]
