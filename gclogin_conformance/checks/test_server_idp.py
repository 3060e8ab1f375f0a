"""Server-side requirements and Genesys behaviours, checked against any authorization server.

The suite plays the client: it needs a client-credentials client, and for the browser
grants an implicit and a PKCE client with a registered redirect URI and a user to sign in
as (given in --credentials, or registered through the mock's admin API).
"""
from __future__ import annotations

import base64
import secrets
from urllib.parse import urlsplit

import pytest
import requests

from gclogin_conformance.checks.server_common import (browser_clients, exchange, fragment, json_of, need,
                                                      pkce_code, query, verifier_pair)
from gclogin_conformance.expect import expect, expect_no_redirect, expect_redirect
from gclogin_conformance.idp_driver import TIMEOUT

GROUP = "server"
USER_CONTEXT = ("This request requires a user context. Client credentials cannot be used for "
                "requests to this resource.")


@pytest.fixture(scope="module")
def clients(idp):
    return browser_clients(idp)


@pytest.fixture
def person(idp):
    if idp.spec.user is None:
        pytest.skip("needs a user to sign in as: give [user] username and password in --credentials")


@pytest.fixture
def implicit(clients):
    return need(clients, "TOKEN")


@pytest.fixture
def pkce(clients):
    return need(clients, "CODE")


def _with_port(uri: str, delta: int) -> str:
    parts = urlsplit(uri)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return uri.replace(f"{parts.hostname}:{port}", f"{parts.hostname}:{port + delta}", 1) if parts.port else \
        uri.replace(parts.netloc, f"{parts.netloc}:{port + delta}", 1)


# --- R1–R4: the authorization endpoint --------------------------------------------------------

def test_R1_implicit_request_shows_login_and_requires_client_id(idp, implicit):
    """R1 — RFC 6749 §4.2.1: response_type=token + client_id is served; without client_id, no redirect."""
    page = idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=implicit["redirect_uri"],
                         state="s")
    expect(page.status_code in (200, 302, 303), "a sign-in page (or a redirect back) for a valid implicit request",
           response=page)
    expect_no_redirect(idp.authorize(response_type="token", redirect_uri=implicit["redirect_uri"], state="s"),
                       "no client_id")


def test_R2_implicit_success_fragment_has_token_type_and_exact_state(idp, implicit, person):
    """R2 — RFC 6749 §4.2.2: #access_token, token_type=bearer, expires_in and our exact state."""
    state = "odd state/+=&é" + secrets.token_urlsafe(8)
    done = idp.login(response_type="token", client_id=implicit["id"], redirect_uri=implicit["redirect_uri"],
                     state=state)
    location = urlsplit(expect_redirect(done, "back to the redirect URI after signing in"))
    expect(f"{location.scheme}://{location.netloc}{location.path}".rstrip("/") == implicit["redirect_uri"].rstrip("/")
           and not location.query, f"a redirect to {implicit['redirect_uri']} with the result in the fragment only",
           response=done)
    got = fragment(done)
    expect(got.get("state") == state, f"the fragment's state to be exactly the one sent ({state!r})",
           f"state={got.get('state')!r}", response=done)
    expect(got.get("token_type", "").lower() == "bearer" and got.get("access_token"),
           "access_token and token_type=bearer in the fragment", f"fragment keys {sorted(got)}", response=done)
    expect(got.get("expires_in", "").isdigit() and int(got["expires_in"]) > 0, "a positive expires_in",
           f"expires_in={got.get('expires_in')!r}", response=done)


def test_R3_unsupported_response_type_redirects_error_with_state(idp, implicit):
    """R3 — RFC 6749 §4.2.2.1: a valid client + redirect_uri gets error=unsupported_response_type and state."""
    response = idp.authorize(response_type="id_token", client_id=implicit["id"],
                             redirect_uri=implicit["redirect_uri"], state="st8")
    expect_redirect(response, "back with error=unsupported_response_type")
    params = {**query(response), **fragment(response)}
    expect(params.get("error") in ("unsupported_response_type", "unauthorized_client"),
           "error=unsupported_response_type (or unauthorized_client)", f"error={params.get('error')!r}",
           response=response)
    expect(params.get("state") == "st8", "the error to carry our state st8", f"state={params.get('state')!r}",
           response=response)


def test_R3_invalid_scope_redirects_error_with_state(idp, implicit):
    """R3 — RFC 6749 §4.2.2.1: a scope the client may not have gives error=invalid_scope with state."""
    response = idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=implicit["redirect_uri"],
                             state="st9", scope="no-such-scope")
    expect_redirect(response, "back with error=invalid_scope")
    params = fragment(response)
    expect(params.get("error") == "invalid_scope" and params.get("state") == "st9",
           "#error=invalid_scope&state=st9", f"fragment {params}", response=response)


def test_R4_unknown_client_shows_error_without_redirect(idp, implicit):
    """R4 — RFC 6749 §4.1.2.1, §4.2.2.1: an unknown client_id gets an error page, never a redirect."""
    expect_no_redirect(idp.authorize(response_type="token", client_id="00000000-0000-0000-0000-000000000000",
                                     redirect_uri=implicit["redirect_uri"], state="s"), "unknown client_id")


@pytest.mark.parametrize("variant", ["other-port", "evil-host", "other-path", "missing"])
def test_R4_unregistered_redirect_uri_shows_error_without_redirect(idp, implicit, variant):
    """R4 — RFC 6749 §3.1.2.4: an unregistered (or missing, when several are registered) redirect_uri: no redirect."""
    uri = implicit["redirect_uri"]
    params = {"response_type": "token", "client_id": implicit["id"], "state": "s"}
    bad = {"other-port": _with_port(uri, 876), "evil-host": "https://evil.example/",
           "other-path": uri.rstrip("/") + "/other", "missing": None}[variant]
    if variant != "missing":
        params["redirect_uri"] = bad
    elif idp.spec.implicit_client is not None:
        pytest.skip("a single registered redirect URI may be implied when missing (RFC 6749 §3.1.2.3)")
    expect_no_redirect(idp.authorize(**params), f"redirect_uri {bad or 'missing'} is not registered")


# --- R8–R12: the token endpoint ---------------------------------------------------------------

def test_R8_server_form_urldecodes_basic_credentials(idp):
    """R8 — RFC 6749 §2.3.1: id and secret are form-urlencoded inside Basic; the server decodes them; a wrong secret is refused."""
    client = idp.admin_client
    every_char = lambda s: "".join(f"%{b:02X}" for b in s.encode())  # noqa: E731
    raw = f"{every_char(client['id'])}:{every_char(client['secret'])}".encode()
    response = requests.post(idp.token_url, data={"grant_type": "client_credentials"},
                             headers={"Authorization": "Basic " + base64.b64encode(raw).decode()}, timeout=TIMEOUT)
    expect(response.status_code == 200, "200 and a token for percent-encoded (form-urlencoded) Basic credentials",
           response=response, secrets=[client["secret"]])
    wrong = idp.token(client["id"], client["secret"] + "x")
    expect(wrong.status_code == 401 and "invalid_client" in wrong.text,
           "401 invalid_client for a wrong client secret", response=wrong, secrets=[client["secret"]])


def test_R9_two_authentication_methods_refused(idp):
    """R9 — RFC 6749 §2.3: a request using Basic and client_secret in the body is refused."""
    client = idp.admin_client
    response = requests.post(idp.token_url, auth=(client["id"], client["secret"]),
                             data={"grant_type": "client_credentials", "client_id": client["id"],
                                   "client_secret": client["secret"]}, timeout=TIMEOUT)
    expect(response.status_code in (400, 401) and any(e in response.text for e in ("invalid_request", "invalid_client")),
           "400/401 invalid_request for two client-authentication methods in one request",
           response=response, secrets=[client["secret"]])


def test_R10_client_credentials_token_has_no_refresh_token(idp):
    """R10 — RFC 6749 §4.4.3: a bearer token with expires_in, and no refresh token."""
    response = idp.token(idp.admin_client["id"], idp.admin_client["secret"])
    expect(response.status_code == 200, "200 with a token", response=response)
    body = json_of(response)
    expect(str(body.get("token_type", "")).lower() == "bearer" and body.get("access_token")
           and isinstance(body.get("expires_in"), int) and body["expires_in"] > 0,
           "token_type bearer, an access_token and a positive expires_in", f"fields {sorted(body)}",
           response=response)
    expect("refresh_token" not in body, "no refresh_token for client credentials (§4.4.3)",
           "a refresh_token was issued", response=response)


def test_R10_unsupported_grant_type_refused(idp):
    """R10 — RFC 6749 §5.2: grant types the client does not have are refused (unsupported/unauthorized)."""
    response = idp.token(idp.admin_client["id"], idp.admin_client["secret"], grant_type="password",
                         username="x", password="y")
    expect(response.status_code in (400, 401) and "access_token" not in response.text,
           "400/401 unsupported_grant_type for grant_type=password", response=response)


@pytest.mark.parametrize("good", [True, False], ids=["success", "error"])
def test_R12_token_responses_not_cacheable(idp, good):
    """R12 — RFC 6749 §5.1, §5.2: Cache-Control: no-store and Pragma: no-cache on success and error."""
    client = idp.admin_client
    response = idp.token(client["id"], client["secret"] if good else "wrong-secret")
    cache = response.headers.get("Cache-Control", "")
    pragma = response.headers.get("Pragma")
    expect("no-store" in cache and pragma == "no-cache",
           "Cache-Control: no-store and Pragma: no-cache on the token response",
           f"Cache-Control: {cache or '(none)'}, Pragma: {pragma or '(none)'} (status {response.status_code})",
           response=response)


# --- R13–R14, G8: PKCE at the server ----------------------------------------------------------

def test_R13_server_refuses_out_of_spec_verifier(idp, pkce, person):
    """R13 — RFC 7636 §4.1: a 42-character verifier is refused even if it hashes right."""
    import hashlib

    short = "a" * 42
    challenge = base64.urlsafe_b64encode(hashlib.sha256(short.encode()).digest()).rstrip(b"=").decode()
    done = idp.login(response_type="code", client_id=pkce["id"], redirect_uri=pkce["redirect_uri"], state="s",
                     code_challenge=challenge, code_challenge_method="S256")
    if done.status_code in (302, 303) and "code" in query(done):
        response = exchange(idp, pkce, query(done)["code"], short)
        expect(response.status_code == 400 and "access_token" not in response.text,
               "400 for a 42-character code_verifier", response=response)
    else:  # refusing the challenge up front is fine too, as long as no code is issued
        expect("code=" not in done.headers.get("Location", ""), "no code for an out-of-spec challenge",
               response=done)


def test_R14_s256_verifier_checked_at_exchange(idp, pkce, person):
    """R14 — RFC 7636 §4.6: the right verifier gets a token; a wrong one gets invalid_grant."""
    code, _ = pkce_code(idp, pkce)
    wrong = exchange(idp, pkce, code, verifier_pair()[0])
    expect(wrong.status_code == 400 and "invalid_grant" in wrong.text,
           "400 invalid_grant for a code_verifier that does not match the challenge", response=wrong)
    code, verifier = pkce_code(idp, pkce)
    good = exchange(idp, pkce, code, verifier)
    expect(good.status_code == 200 and "access_token" in good.text, "200 and a token for the right verifier",
           response=good)


@pytest.mark.parametrize("extra", [{"code_challenge_method": "plain"}, {}], ids=["plain", "missing"])
def test_R14_plain_or_missing_challenge_refused(idp, pkce, extra):
    """R14 — RFC 7636 §4.2; RFC 9700 §2.1.1: `plain` or no challenge: no code is issued."""
    if not extra and pkce.get("secret"):
        # A CODE client with a secret is confidential: Genesys's Code Authorization grant,
        # which needs no PKCE (its secret proves it). The rule is for public clients: the
        # suite registers one at the mock (Idp.create_client), and a given [pkce] client has none.
        pytest.skip("R14 'missing' concerns public clients; this registered CODE client has a secret")
    params = {"response_type": "code", "client_id": pkce["id"], "redirect_uri": pkce["redirect_uri"], "state": "s",
              **extra}
    if extra:
        params["code_challenge"] = "x" * 43
    response = idp.authorize(**params)
    if response.status_code in (302, 303):
        got = query(response)
        expect(got.get("error") == "invalid_request" and "code" not in got,
               "error=invalid_request and no code", f"query {sorted(got)}", response=response)
    else:
        expect(response.status_code >= 400, "an error (no sign-in page, no code)", response=response)


def test_G8_authorization_code_single_use(idp, pkce, person):
    """G8 — RFC 6749 §4.1.2: a code works once; the second exchange gets invalid_grant."""
    code, verifier = pkce_code(idp, pkce)
    first = exchange(idp, pkce, code, verifier)
    expect(first.status_code == 200, "200 for the first exchange", response=first)
    again = exchange(idp, pkce, code, verifier)
    expect(again.status_code == 400 and "invalid_grant" in again.text,
           "400 invalid_grant when the same code is redeemed again", response=again)


def test_G8_authorization_code_bound_to_redirect_uri(idp, pkce, person):
    """G8 — RFC 6749 §4.1.3: a code is redeemed only with the redirect_uri it was issued for."""
    code, verifier = pkce_code(idp, pkce)
    other = _with_port(pkce["redirect_uri"], 1)
    response = exchange(idp, pkce, code, verifier, redirect=other)
    expect(response.status_code == 400, f"400 when the code is redeemed with another redirect_uri ({other})",
           response=response)


def test_G8_authorization_code_bound_to_its_client(idp, pkce, person):
    """G8 — RFC 6749 §4.1.3: a code issued to one client is not redeemed for another client_id."""
    code, verifier = pkce_code(idp, pkce)
    response = exchange(idp, pkce, code, verifier, client_id="00000000-aaaa-4bbb-8ccc-000000000000")
    expect(response.status_code in (400, 401) and "access_token" not in response.text,
           "400/401 when the code is redeemed with another client_id", response=response)


# --- R17, G4, R27: redirect URI matching ------------------------------------------------------

def test_R17_port_must_match_by_default(idp, implicit):
    """R17 — Genesys behaviour: the loopback port must match the registered one (RFC 8252 §7.3 relaxed off)."""
    other = _with_port(implicit["redirect_uri"], 1)
    expect_no_redirect(idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=other, state="s"),
                       f"{other}: registered URI with another port")


G4_VARIANTS = ["trailing-slash", "https", "query", "other-ip", "zero-padded-port", "upper-host", "fragment"]


def _variant(uri: str, kind: str) -> str:
    parts = urlsplit(uri)
    return {"trailing-slash": uri.rstrip("/") + "/x/" if parts.path not in ("", "/") else uri.rstrip("/") + "//",
            "https": uri.replace("http://", "https://", 1) if parts.scheme == "http" else uri.replace("https://", "http://", 1),
            "query": uri + "?x=1", "other-ip": uri.replace(parts.hostname or "", "127.0.0.2", 1),
            "zero-padded-port": uri.replace(f":{parts.port}", f":0{parts.port}", 1) if parts.port else uri + ":0",
            "upper-host": uri.replace(parts.hostname or "", (parts.hostname or "").upper() + ".", 1),
            "fragment": uri + "#frag"}[kind]


@pytest.mark.parametrize("kind", G4_VARIANTS)
def test_G4_redirect_uri_matched_exactly(idp, implicit, kind):
    """G4 — REFERENCE §1: the redirect_uri must equal a registered one (scheme, host, port, path)."""
    variant = _variant(implicit["redirect_uri"], kind)
    expect_no_redirect(idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=variant, state="s"),
                       f"{variant} differs from the registered URI")


@pytest.mark.parametrize("evil", ["https://evil.example", "//evil.example", "@evil.example", "javascript:alert(1)"])
def test_R27_authorize_never_redirects_off_registered_uris(idp, implicit, evil):
    """R27 — RFC 9700 §4.11.1: no open redirect through the authorization endpoint."""
    uri = implicit["redirect_uri"].rstrip("/") + evil if evil.startswith("@") else evil
    expect_no_redirect(idp.authorize(response_type="token", client_id=implicit["id"], redirect_uri=uri, state="s"),
                       f"redirect_uri {uri}")


# --- G1–G6: the Genesys API ---------------------------------------------------------------------

def test_G1_users_me_with_client_credentials_needs_user_context(idp):
    """G1 — REFERENCE §1 step 4, §8: a client-credentials token on users/me gets the user-context error."""
    response = idp.api("GET", "/api/v2/users/me", idp.cc_token())
    expect(400 <= response.status_code < 500 and response.status_code != 401
           and USER_CONTEXT in response.text, f"a 4xx (not 401) with the message {USER_CONTEXT!r}",
           response=response)


def test_G1_users_me_with_a_user_token_returns_the_user(idp, implicit, person):
    """G1 — REFERENCE §1 step 4: a token from an implicit login gets the signed-in user from users/me."""
    done = idp.login(response_type="token", client_id=implicit["id"], redirect_uri=implicit["redirect_uri"], state="s")
    expect_redirect(done, "back with a token")
    token = fragment(done).get("access_token", "")
    me = idp.api("GET", "/api/v2/users/me", token)
    expect(me.status_code == 200 and idp.user["username"] in me.text,
           f"200 and the user {idp.user['username']}", response=me, secrets=[token])


@pytest.mark.parametrize("auth", ["Bearer not-a-real-token", None], ids=["invalid", "missing"])
def test_G2_bad_bearer_gets_401_bad_credentials_with_correlation_id(idp, auth):
    """G2 — REFERENCE §8: 401 {message: 'Invalid login credentials.', code: bad.credentials} + ININ-Correlation-Id."""
    headers = {"Authorization": auth} if auth else {}
    response = requests.get(idp.api_url + "/api/v2/users/me", headers=headers, timeout=TIMEOUT)
    expect(response.status_code == 401, "401 for a bad bearer token", response=response)
    body = json_of(response)
    expect((body.get("code"), body.get("status"), body.get("message")) == ("bad.credentials", 401,
                                                                           "Invalid login credentials."),
           "{code: bad.credentials, status: 401, message: 'Invalid login credentials.'}", response=response)
    expect(response.headers.get("ININ-Correlation-Id") == body.get("contextId"),
           "the ININ-Correlation-Id header equal to the body's contextId", response=response)


def test_G5_delete_tokens_me_revokes_the_token(idp):
    """G5 — REFERENCE §4: DELETE /api/v2/tokens/me revokes; the token then gets 401 bad.credentials."""
    token = idp.cc_token()
    before = idp.api("GET", "/api/v2/users/me", token)
    expect(before.status_code != 401, "the fresh token accepted before revocation", response=before)
    deleted = idp.api("DELETE", "/api/v2/tokens/me", token)
    expect(200 <= deleted.status_code < 300, "2xx from DELETE /api/v2/tokens/me", response=deleted)
    after = idp.api("GET", "/api/v2/users/me", token)
    expect(after.status_code == 401 and "bad.credentials" in after.text,
           "401 bad.credentials for the revoked token", response=after)


@pytest.mark.parametrize("method, path, auth", [("GET", "/api/v2/no-such-resource", True),
                                                ("GET", "/api/v2/users/me", False),
                                                ("GET", "/api/v2/users/me", True)])
def test_G6_api_error_body_shape(idp, method, path, auth):
    """G6 — REFERENCE §8: errors are {message, code, status, contextId, details, errors}."""
    response = idp.api(method, path, idp.cc_token() if auth else None)
    expect(response.status_code >= 400, "an error status", response=response)
    body = json_of(response)
    missing = {"message", "code", "status", "contextId", "details", "errors"} - set(body)
    expect(not missing, "an error body with message, code, status, contextId, details, errors",
           f"missing {sorted(missing)}", response=response)
    expect(body["status"] == response.status_code and isinstance(body["details"], list)
           and isinstance(body["errors"], list), "status equal to the HTTP status; details and errors lists",
           response=response)
    expect(response.headers.get("ININ-Correlation-Id") == body["contextId"],
           "the ININ-Correlation-Id header equal to contextId", response=response)

