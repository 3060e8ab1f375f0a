"""Client (black-box): the authorize request's state, and what the client does with a
forged, missing or replayed one (R1, R20, R21). "Carried on" is what it did next: exit
status 0, the token saved, the API or the token endpoint called with what it got."""
from __future__ import annotations

import pytest

from gclogin_conformance.expect import expect

GROUP = "client-profile"
pytestmark = pytest.mark.slow
MIN_STATE_CHARS = 22  # 128 bits in base64url; fewer characters cannot carry 128 bits


def test_R1_authorize_request_carries_state(client):
    """The authorize request has response_type, client_id and a state."""
    run = client.run()
    params = run.login.authorize_params()
    expect(run.url, "the client to open an authorize URL", run.describe())
    expect(params.get("state"), "a state parameter in the authorize request",
           f"the authorize request had {sorted(params)} and no state")


def test_R20_state_long_enough_and_distinct(client):
    """State carries at least 128 bits (by its length) and differs on every login (3 runs)."""
    states = [client.run(n=n).login.authorize_params().get("state", "") for n in range(3)]
    expect(all(states), "a state in each of 3 authorize requests",
           f"{sum(1 for s in states if not s)} of 3 had no state")
    short = min(states, key=len)
    expect(len(short) >= MIN_STATE_CHARS, f"a state of at least {MIN_STATE_CHARS} characters (128 bits)",
           f"a state of {len(short)} characters")
    expect(len(set(states)) == 3, "3 different states over 3 logins", f"{len(set(states))} distinct")


@pytest.mark.parametrize("scenario", ["forged_state", "missing_state"])
def test_R20_client_stops_on_wrong_state(client, scenario):
    """A redirect with a forged or no state: the client must not carry on."""
    run = client.run(scenario)
    what = {"forged_state": "a forged state", "missing_state": "no state"}[scenario]
    expect(not run.carried_on(), f"the client to refuse the redirect with {what}",
           f"it carried on: {', '.join(run.carried_on())} ({run.describe()})")


def test_R21_client_stops_on_replayed_state(client):
    """A redirect carrying the state of an earlier, completed login: refused."""
    run = client.run("replayed_state")
    expect(not run.carried_on(), "the client to refuse a state from an earlier login",
           f"it carried on: {', '.join(run.carried_on())} ({run.describe()})")


def test_R26_client_refuses_another_issuer(client):
    """A PKCE response whose `iss` names another issuer (RFC 9207; mix-up, RFC 9700 §4.4.2): the client
    exits non-zero, redeems the code at no token endpoint, and saves no profile."""
    grant = client.grant("pkce")
    if grant is None:
        pytest.skip(f"the check sends iss in a PKCE response; the profile offers no PKCE grant "
                    f"(grants = {list(client.profile.grants)})")
    run = client.run("mixup_iss", grant)
    expect(run.issued, "the IdP to have issued a code (with iss naming another issuer)", run.describe())
    redeemed = sorted({r.path for r in run.login.token_requests()})
    expect(not redeemed, "no token request after a response from another issuer",
           f"the code was sent to {', '.join(redeemed)}")
    expect(run.exit_code not in (0, None), "the client to exit non-zero", run.describe())
    expect(not run.token_file_text.strip(), "no profile saved", f"{run.token_file} was written")
