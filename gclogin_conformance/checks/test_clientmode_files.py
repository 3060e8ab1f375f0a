"""Client (black-box): secrets in output (R25) and the stored token file's mode (R28)."""
from __future__ import annotations

import pytest

from gclogin_conformance.expect import expect

GROUP = "client-profile"
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("grant", ["implicit", "pkce"])
def test_R25_no_secrets_in_output(client, grant):
    """stdout and stderr never show the token, the code or the verifier."""
    if client.grant(grant) is None:
        pytest.skip(f"the profile offers no {grant} grant")
    run = client.run(grant=grant)
    secrets = [*run.issued, *(r.form.get("code_verifier", "") for r in run.login.token_requests())]
    shown = [s for s in secrets if len(s) >= 8 and s in run.output]
    expect(run.issued, "the IdP to have issued a token or code", run.describe())
    expect(not shown, "no token, code or verifier in the client's output",
           f"{len(shown)} secret value(s) appeared in its output")


def test_R28_token_file_private(client):
    """The file holding the token is 0600 in a 0700 directory."""
    if not client.profile.token_file:
        pytest.skip("the profile names no token_file")
    run = client.run()
    expect(run.token_file_mode is not None, f"the token stored in {run.token_file}", run.describe())
    expect(run.token_file_mode == 0o600, "the token file mode 0600", f"mode {run.token_file_mode:04o}")
    expect(run.token_dir_mode == 0o700, "its directory mode 0700", f"mode {run.token_dir_mode:04o}")
