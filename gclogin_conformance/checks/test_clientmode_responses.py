"""Client (black-box): what the client does with the response (R2 token_type and
expires_in, R3 markup in error_description, R22 the token kept out of URLs)."""
from __future__ import annotations

import pytest

from gclogin_conformance.expect import expect

GROUP = "client-profile"
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("token_type", ["BEARER", "Bearer"])
def test_R2_token_type_case_insensitive(client, token_type):
    """token_type is case-insensitive: "Bearer" and "BEARER" are accepted."""
    run = client.run(f"token_type_{token_type}")
    expect(run.exit_code == 0, f"the login to succeed with token_type={token_type}", run.describe())


def test_R2_unknown_token_type_refused(client):
    """token_type=mac is not a bearer token: the client must not carry on."""
    run = client.run("token_type_mac")
    expect(not run.carried_on(), "the client to refuse token_type=mac",
           f"it carried on: {', '.join(run.carried_on())} ({run.describe()})")


def test_R2_missing_expires_in_handled(client):
    """expires_in is optional: the login completes without it (and without a traceback)."""
    run = client.run("no_expires_in")
    expect(run.exit_code == 0 and "Traceback" not in run.output, "the login to complete without expires_in",
           run.describe())


def test_R3_error_description_not_rendered_as_markup(client):
    """An error_description with markup and a terminal escape: shown as text, in the page and the terminal."""
    run = client.run("error_markup")
    expect(not run.markup_rendered, "the error page to show error_description as text",
           "the page rendered the markup as elements (#cf-markup / #cf-img)")
    expect("\x1b" not in run.output, "no terminal escape sequences from error_description in the output",
           "the output contains ESC characters from error_description")
    expect(run.exit_code not in (0, None), "the client to exit non-zero after an error response", run.describe())


def test_R22_token_never_in_a_url(client):
    """After the redirect, no request the browser makes carries the token in its path or query."""
    run = client.run()
    token = next(iter(run.issued), "")
    expect(token, "the IdP to have issued a token", run.describe())
    leaked = [u.split("#")[0] for u in run.requests if token in u.split("#")[0]]
    expect(not leaked, "the token only in the fragment or a POST body",
           f"{len(leaked)} request(s) carried it in the URL, e.g. "
           f"{leaked[0].replace(token, '<token>') if leaked else ''}")
