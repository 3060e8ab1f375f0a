"""Client (black-box): the loopback server, from /proc/net and the browser's network log
(R18 listening addresses, R19 closed after success, error and timeout, R5 what its pages
load, R29 the certificate an HTTPS loopback serves)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gclogin_conformance.browser import origin
from gclogin_conformance.expect import expect

GROUP = "client-profile"
pytestmark = pytest.mark.slow
LOOPBACK = {"127.0.0.1", "::1"}
CERT_SLACK = timedelta(minutes=5)       # beyond the login's timeout, for clocks
UNSTATED_TIMEOUT = timedelta(hours=1)   # the login's wait, when the profile passes no {timeout}


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


def test_R19_port_closed_after_a_timeout(client):
    """A login nobody completes: the client gives up after its timeout and its port is closed."""
    run = client.run("no_callback")
    expect(run.listening_while_waiting, f"a listener on port {run.port} while the login waits",
           f"none ({run.describe()})")
    given = (f"its {{timeout}} of {run.timeout:g} s" if client.profile.uses("timeout")
             else "no {timeout} (the profile passes none)")
    expect(run.exit_code is not None, f"the client to give up after {given}",
           f"still waiting {run.waited:.0f} s after the login began ({run.describe()})")
    expect(not run.listening_after, f"port {run.port} closed once the client gave up",
           f"still listening on {', '.join(sorted(run.listening_after))} after it exited "
           f"({run.exit_code}): a process it left behind holds the socket")


def _https_certificates(client) -> list[x509.Certificate]:
    if not client.profile.serves_https:
        pytest.skip("the profile serves no HTTPS loopback (https = false)")
    runs = [client.run("https", n=n) for n in range(2)]
    for run in runs:
        expect(run.certificate, f"a TLS certificate from the loopback on port {run.port}", run.describe())
    return [x509.load_der_x509_certificate(run.certificate) for run in runs]


def test_R29_fresh_key_per_login(client):
    """Two HTTPS logins serve certificates with different public keys."""
    keys = [c.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            for c in _https_certificates(client)]
    expect(keys[0] != keys[1], "a fresh key for each of 2 HTTPS logins", "both logins served the same public key")


def test_R29_certificate_valid_only_for_the_login(client):
    """The loopback certificate is valid no longer than the login may wait, plus a few minutes."""
    certs = _https_certificates(client)
    timeout = client.run("https").timeout
    wait = timedelta(seconds=timeout) if client.profile.uses("timeout") else UNSTATED_TIMEOUT
    limit = wait + CERT_SLACK
    longest = max(c.not_valid_after_utc - c.not_valid_before_utc for c in certs)
    expect(longest <= limit, f"a certificate valid at most {limit} (the login's {wait} wait + {CERT_SLACK})",
           f"valid for {longest}")
