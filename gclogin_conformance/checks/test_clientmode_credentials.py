"""Client (black-box): the client-credentials login's HTTP Basic header (R8), for profiles
with a [client_credentials] login. The IdP's client has an ID and a secret that only read
back right when each was form-urlencoded before the base64 (':', '%', '+', a space, é)."""
from __future__ import annotations

import pytest

from gclogin_conformance.client.idp_middleware import basic_credentials_strict
from gclogin_conformance.client.session import AWKWARD_CLIENT
from gclogin_conformance.expect import expect

GROUP = "client-profile"
pytestmark = pytest.mark.slow


def test_R8_basic_auth_form_urlencodes_id_and_secret(client):
    """Authorization: Basic base64(urlencode(id) ":" urlencode(secret)) (RFC 6749 §2.3.1)."""
    if not client.profile.cc_command:
        pytest.skip("the profile has no [client_credentials] login")
    run = client.run_client_credentials()
    sent = [r for r in run.login.token_requests() if r.form.get("grant_type") == "client_credentials"]
    expect(sent, "a grant_type=client_credentials token request", run.describe())
    header = sent[0].authorization
    expect(header.split(" ")[0].lower() == "basic", "HTTP Basic client authentication",
           f"Authorization scheme {header.split(' ')[0]!r}" if header else "no Authorization header")
    decoded = basic_credentials_strict(header)
    expect(decoded is not None, "base64 of 'id:secret'", "the Basic value is not base64 of text with a ':'")
    assert decoded is not None
    wrong = [what for what, got, want in (("client ID", decoded[0], AWKWARD_CLIENT["id"]),
                                           ("secret", decoded[1], AWKWARD_CLIENT["secret"])) if got != want]
    shown = f" (the ID reads back as {decoded[0]!r})" if decoded[0] != AWKWARD_CLIENT["id"] else ""
    expect(not wrong, "the client ID and the secret to read back after splitting at the first ':' and "
           "form-urldecoding each", f"the {' and the '.join(wrong)} read back wrong{shown}: not form-urlencoded "
           "before the base64 (a raw ':', '%', '+' or space)")
