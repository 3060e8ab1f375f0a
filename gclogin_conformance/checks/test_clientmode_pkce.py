"""Client (black-box): PKCE as the IdP sees it (R13, R14), for profiles offering the PKCE grant."""
from __future__ import annotations

import base64
import hashlib
import re

import pytest

from gclogin_conformance.expect import expect

GROUP = "client-profile"
pytestmark = pytest.mark.slow
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def _pkce_run(client):
    grant = client.grant("pkce")
    if grant is None:
        pytest.skip(f"the profile offers no PKCE grant (grants = {list(client.profile.grants)})")
    return client.run(grant=grant)


def test_R14_challenge_is_S256_of_the_verifier(client):
    """code_challenge_method=S256 and the challenge is BASE64URL(SHA256(verifier))."""
    run = _pkce_run(client)
    params = run.login.authorize_params()
    expect(params.get("code_challenge_method") == "S256", "code_challenge_method=S256",
           f"code_challenge_method={params.get('code_challenge_method')!r}")
    sent = [r.form.get("code_verifier", "") for r in run.login.token_requests() if r.form.get("code")]
    expect(sent, "a token request with the code and a code_verifier", run.describe())
    digest = base64.urlsafe_b64encode(hashlib.sha256(sent[0].encode()).digest()).rstrip(b"=").decode()
    expect(digest == params.get("code_challenge"), "the challenge to be S256 of the verifier sent later",
           "BASE64URL(SHA256(verifier)) differs from the code_challenge")


def test_R13_verifier_length_and_alphabet(client):
    """The verifier sent to the token endpoint: 43–128 characters of [A-Za-z0-9-._~]."""
    run = _pkce_run(client)
    sent = [r.form.get("code_verifier", "") for r in run.login.token_requests() if r.form.get("code")]
    expect(sent and VERIFIER.fullmatch(sent[0]), "a verifier of 43–128 characters of [A-Za-z0-9-._~]",
           f"a verifier of {len(sent[0])} characters" if sent else "no token request with a verifier")
