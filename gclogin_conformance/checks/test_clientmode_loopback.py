"""Client (black-box): the loopback server, from /proc/net and the browser's network log
(R18 listening addresses, R19 closed after success and error, R5 what its pages load)."""
from __future__ import annotations

import pytest

from gclogin_conformance.browser import origin
from gclogin_conformance.expect import expect

GROUP = "client-profile"
pytestmark = pytest.mark.slow
LOOPBACK = {"127.0.0.1", "::1"}


def test_R18_listens_on_loopback_only(client):
    """While the login waits, the redirect port is bound to 127.0.0.1/::1 only (not 0.0.0.0 or ::)."""
    run = client.run()
    expect(run.listening_while_waiting, f"a listener on port {run.port} while the login waits",
           f"none ({run.describe()})")
    expect(run.listening_while_waiting <= LOOPBACK, "listeners on 127.0.0.1 / ::1 only",
           f"listening on {', '.join(sorted(run.listening_while_waiting))}")


@pytest.mark.parametrize("scenario", ["normal", "error_markup"])
def test_R19_port_closed_after_the_login(client, scenario):
    """After a successful login, and after an error response, the client exits and its port is closed."""
    run = client.run(scenario)
    when = "a successful login" if scenario == "normal" else "an error response"
    expect(run.exit_code is not None, f"the client to finish after {when}", run.describe())
    expect(not run.listening_after, f"port {run.port} closed after {when}",
           f"still listening on {', '.join(sorted(run.listening_after))}")


def test_R5_loopback_pages_load_nothing_third_party_and_set_csp(client):
    """The loopback pages load only from themselves (and the IdP) and send a Content-Security-Policy."""
    run = client.run()
    loopback = {origin(b) for b in run.login.redirect_bases}
    allowed = loopback | {origin(client.idp.base_url)}
    others = {origin(u) for u in run.requests if u.startswith("http")} - allowed
    expect(not others, "no requests beyond the IdP and the loopback server", f"requests to {sorted(others)}")
    pages = [(u, h) for u, status, h in run.responses if origin(u) in loopback and
             "html" in h.get("content-type", "")]
    expect(pages, "an HTML page from the loopback server", run.describe())
    missing = [u.split("?")[0].split("#")[0] for u, h in pages if "content-security-policy" not in h]
    expect(not missing, "a Content-Security-Policy on every loopback page", f"none on {missing}")
