"""Server checks that need this project's mock: its admin API and seed, or its internals.

They are a separate, labelled group in the report: against another server they are
NOT RUN (with the reason), never counted as passes.
"""
from __future__ import annotations

import requests

import pytest

from gclogin_conformance.checks.server_common import PORT, REDIRECT
from gclogin_conformance.expect import expect, expect_no_redirect, expect_redirect
from gclogin_conformance.idp_driver import TIMEOUT, Idp

GROUP = "server-mock"


def test_R9_credentials_in_url_refused(idp, mock_only):
    """R9 — RFC 6749 §2.3.1: client credentials in the URL query are never accepted (mock only: no secret in a real URL)."""
    client = idp.admin_client
    response = requests.post(idp.token_url, params={"client_id": client["id"], "client_secret": client["secret"]},
                             data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    expect(response.status_code in (400, 401) and "access_token" not in response.text,
           "400/401 and no token for credentials in the query string", response=response,
           secrets=[client["secret"]])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_R16_loopback_ip_and_localhost_registrations_both_work(idp, mock_only, host):
    """R16 — RFC 8252 §7.3, §8.3: 127.0.0.1 (preferred) and localhost (Genesys docs) both accepted."""
    client = idp.create_client("TOKEN", [REDIRECT, f"http://localhost:{PORT}"])
    done = idp.login(response_type="token", client_id=client["id"], redirect_uri=f"http://{host}:{PORT}", state="s")
    location = expect_redirect(done, f"back to http://{host}:{PORT}")
    expect(location.startswith(f"http://{host}:{PORT}"), f"a redirect to http://{host}:{PORT}", response=done)


def test_R17_any_port_rule_when_switched_on(tmp_path, internals_only):
    """R17 — RFC 8252 §7.3: with MOCK_IDP_LOOPBACK_ANY_PORT the mock accepts any port on a loopback IP."""
    from gclogin_conformance.plugin import in_process_idp, mock_spec

    with in_process_idp(tmp_path, LOOPBACK_ANY_PORT=True) as base:
        other = Idp(mock_spec(base))
        client = other.create_client("TOKEN", [REDIRECT])
        done = other.login(response_type="token", client_id=client["id"],
                           redirect_uri=f"http://127.0.0.1:{PORT + 7}", state="s")
        location = expect_redirect(done, "to the same loopback IP on another port")
        expect(location.startswith(f"http://127.0.0.1:{PORT + 7}#"), f"a redirect to http://127.0.0.1:{PORT + 7}#…",
               response=done)
        expect_no_redirect(other.authorize(response_type="token", client_id=client["id"],
                                           redirect_uri=f"http://127.0.0.1:{PORT + 7}/x", state="s"),
                           "another path is still refused")


@pytest.mark.parametrize("validity, ok", [(299, False), (300, True), (172800, True), (172801, False)])
def test_G3_token_lifetime_bounds_300_to_172800(idp, mock_only, validity, ok):
    """G3 — REFERENCE §7: accessTokenValiditySeconds must be 300..172800; tokens last exactly that long."""
    body = {"name": "conformance-lifetime", "authorizedGrantType": "CLIENT-CREDENTIALS",
            "accessTokenValiditySeconds": validity}
    response = idp.api("POST", "/api/v2/oauth/clients", idp.cc_token(), json=body)
    if not ok:
        expect(response.status_code == 400 and "accessTokenValiditySeconds" in response.text,
               f"400 naming accessTokenValiditySeconds for {validity}", response=response)
        return
    expect(response.status_code in (200, 201), f"the client with a {validity} s lifetime created", response=response)
    client = response.json()
    token = idp.token(client["id"], client["secret"])
    expect(token.status_code == 200 and token.json().get("expires_in") == validity, f"expires_in={validity}",
           response=token)


def test_G2_expired_token_gets_401(idp, mock_only):
    """G2 — REFERENCE §8: an expired bearer token gets 401 bad.credentials (the clock moved past its lifetime)."""
    if not idp.spec.clock_url:
        pytest.skip("needs a clock seam (servers the suite starts itself): cannot wait 300 s for a token to expire")
    body = {"name": "conformance-expiry", "authorizedGrantType": "CLIENT-CREDENTIALS",
            "accessTokenValiditySeconds": 300}
    created = idp.api("POST", "/api/v2/oauth/clients", idp.cc_token(), json=body)
    expect(created.status_code in (200, 201), "a client with a 300 s lifetime created", response=created)
    client = created.json()
    token = idp.cc_token(client)
    fresh = idp.api("GET", "/api/v2/users/me", token)
    expect(fresh.status_code != 401, "the fresh token accepted", response=fresh, secrets=[token])
    requests.post(idp.spec.clock_url, data={"advance": "301"}, timeout=TIMEOUT).raise_for_status()
    late = idp.api("GET", "/api/v2/users/me", token)
    expect(late.status_code == 401 and "bad.credentials" in late.text,
           "401 bad.credentials for a token 301 s into a 300 s lifetime", response=late, secrets=[token])


