"""Client-side requirements of the CLI's loopback redirect server (service/loopback/)."""
from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import tempfile
from urllib.parse import urlencode

import pytest
from cryptography import x509

from service import environments
from service.loopback import handler
from service.errors import LoginTimeoutError, OAuthError
from service.oauth import code_challenge_s256, start_login
from service.profiles import GrantType
from gclogin_conformance.loopback_driver import FakeTokenEndpoint, LoopbackLogin
from gclogin_conformance.servers import free_port, listening_addresses

GROUP = "client"
ENDPOINTS = environments.resolve("http://127.0.0.1:9")  # never contacted by implicit logins
TOKEN = "implicit-access-token-abc"
# the one-time loopback certificate is self-signed by design (R29)
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def test_R5_relay_page_has_nonce_csp_no_referrer_and_no_third_party_resources():
    """R5 — RFC 6749 §3.1.2.5; RFC 9700 §4.2.4: nonce CSP, no-referrer, only inline nonce'd script."""
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://127.0.0.1:{free_port()}", ENDPOINTS)
    page = login.get()
    csp = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "default-src 'none'" in csp and "script-src 'nonce-" in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=", page.text, re.I)
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", page.text):
        assert f'nonce="{nonce}"' in tag
    assert login.get().headers["Content-Security-Policy"] != csp  # a fresh nonce per response
    login.relay({"access_token": TOKEN, "token_type": "bearer", "state": login.state})
    assert login.result().access_token == TOKEN


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_R16_loopback_redirect_on_ip_and_localhost(host):
    """R16 — RFC 8252 §7.3, §8.3: 127.0.0.1 preferred, Genesys's localhost registration works too."""
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://{host}:{free_port()}", ENDPOINTS)
    assert login.redirect_uri.startswith(f"http://{host}:")
    page = login.relay({"access_token": TOKEN, "token_type": "bearer", "state": login.state})
    assert page.status_code == 200 and "Login complete" in page.text
    assert login.result().access_token == TOKEN


def test_R18_listens_on_loopback_interface_only():
    """R18 — RFC 8252 §8.3: bound to loopback addresses (127.0.0.1, ::1 for localhost), never 0.0.0.0 / ::."""
    port = free_port()
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://localhost:{port}", ENDPOINTS)
    listening = listening_addresses(port)
    assert "127.0.0.1" in listening
    assert all(ipaddress.ip_address(a).is_loopback for a in listening), listening
    login.relay({"access_token": TOKEN, "token_type": "bearer", "state": login.state})
    login.result()


def test_R19_closes_after_success():
    """R19 — the server is open only for the login: closed once the token arrived."""
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://127.0.0.1:{free_port()}", ENDPOINTS)
    login.relay({"access_token": TOKEN, "token_type": "bearer", "state": login.state})
    login.result()
    assert login.port_closed()


def test_R19_closes_after_error():
    """R19 + R3 — an error response ends the login with the server's error, port closed."""
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://127.0.0.1:{free_port()}", ENDPOINTS)
    page = login.relay({"error": "access_denied", "error_description": "User said no", "state": login.state})
    assert page.status_code == 400 and "User said no" in page.text
    outcome = login.result()
    assert isinstance(outcome, OAuthError) and outcome.error == "access_denied"
    assert login.port_closed()


def test_R19_closes_after_timeout():
    """R19 — no response before the timeout: LoginTimeoutError and the port is closed."""
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://127.0.0.1:{free_port()}", ENDPOINTS, timeout=0.5)
    assert isinstance(login.result(), LoginTimeoutError)
    assert login.port_closed()


def test_R20_loopback_refuses_a_forged_state():
    """R20 — RFC 6749 §10.12: a response with another state is refused, no token accepted.

    A forged response must not end the login either (else any local page could abort
    it): the login keeps waiting and the genuine response still completes it.
    """
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://127.0.0.1:{free_port()}", ENDPOINTS)
    # One character changed, always to a different one (the state ends in "x" 1 time in 64).
    forged = login.state[:-1] + ("y" if login.state.endswith("x") else "x")
    page = login.relay({"access_token": TOKEN, "token_type": "bearer", "state": forged})
    assert page.status_code == 400
    assert TOKEN not in page.text
    assert login._done.empty(), "a forged state ended the login"
    ok = login.relay({"access_token": TOKEN, "token_type": "bearer", "state": login.state})
    assert ok.status_code == 200
    assert login.result().access_token == TOKEN


def test_R21_loopback_accepts_one_response_only():
    """R21 — RFC 9700 §4.2.4: the state is consumed by the first response; a replay is refused."""
    pending = start_login(GrantType.IMPLICIT, client_id="c", redirect_uri="http://127.0.0.1:1",
                          endpoints=ENDPOINTS)
    reported: list[object] = []
    app = handler.create_loopback_app(pending, reported.append)
    body = urlencode({"fragment": f"access_token={TOKEN}&token_type=bearer&state={pending.state}"})
    first = app.post("/", "application/x-www-form-urlencoded", body.encode())
    second = app.post("/", "application/x-www-form-urlencoded", body.encode())
    assert first.status == 200 and second.status == 400
    assert first.outcome.access_token == TOKEN and second.outcome is None  # reported: the first only


def test_R22_relay_page_posts_fragment_same_origin_and_scrubs_history():
    """R22 — the fragment is relayed as a same-origin POST body; history.replaceState scrubs it."""
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://127.0.0.1:{free_port()}", ENDPOINTS)
    page = login.get()
    assert "history.replaceState" in page.text
    form = re.search(r"<form[^>]*>", page.text).group(0)
    assert re.search(r'method="post"', form, re.I) and 'action="/"' in form
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    login.relay({"access_token": TOKEN, "token_type": "bearer", "state": login.state})
    assert login.result().access_token == TOKEN


def test_R22_token_in_query_is_refused():
    """R22 — a token arriving in the URL query is not accepted as a login response."""
    login = LoopbackLogin(GrantType.IMPLICIT, f"http://127.0.0.1:{free_port()}", ENDPOINTS)
    page = login.get({"access_token": TOKEN, "token_type": "bearer", "state": login.state})
    assert page.status_code == 400 and TOKEN not in page.text
    outcome = login.result()
    assert isinstance(outcome, Exception) and TOKEN not in str(outcome)


def test_R22_pkce_code_in_query_but_token_never_in_a_url():
    """R22 — PKCE: only the one-time code is in the query; the token comes from a POST body."""
    with FakeTokenEndpoint() as idp:
        login = LoopbackLogin(GrantType.PKCE, f"http://127.0.0.1:{free_port()}", idp.endpoints)
        page = login.get({"code": "the-code", "state": login.state})
        assert page.status_code == 200 and "pkce-access-token-123" not in page.text
        token = login.result()
    assert token.access_token == "pkce-access-token-123"
    form = idp.forms[0]
    assert code_challenge_s256(form["code_verifier"]) == login.query["code_challenge"]
    assert form["redirect_uri"] == login.redirect_uri and form["code"] == "the-code"


def test_R25_loopback_output_holds_no_token_code_or_verifier(capfd):
    """R25 — RFC 6749 §10.3: what the login prints (and the server logs) has no secrets."""
    with FakeTokenEndpoint() as idp:
        login = LoopbackLogin(GrantType.PKCE, f"http://127.0.0.1:{free_port()}", idp.endpoints)
        login.get({"code": "secret-code-xyz", "state": login.state})
        login.result()
    out, err = capfd.readouterr()
    printed = "\n".join(login.lines) + out + err
    for secret in ("secret-code-xyz", "pkce-access-token-123", idp.forms[0]["code_verifier"]):
        assert secret not in printed


def _certificate(redirect_uri: str) -> x509.Certificate:
    parts = redirect_uri.rsplit(":", 1)
    pem = ssl.get_server_certificate(("127.0.0.1", int(parts[1])), timeout=10)
    return x509.load_pem_x509_certificate(pem.encode())


def test_R29_https_loopback_fresh_short_lived_cert_with_loopback_sans_deleted_after(monkeypatch, tmp_path):
    """R29 — HTTPS loopback: fresh key per login, SAN IP:127.0.0.1 + DNS:localhost, short validity, no files left."""
    private = tmp_path / "tmp"  # a temp dir of our own: other programs' files don't count
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    keys = []
    for _ in range(2):
        login = LoopbackLogin(GrantType.IMPLICIT, f"https://localhost:{free_port()}", ENDPOINTS)
        cert = _certificate(login.redirect_uri)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
        assert "localhost" in san.get_values_for_type(x509.DNSName)
        assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=2)
        keys.append(cert.public_key().public_numbers())
        login.relay({"access_token": TOKEN, "token_type": "bearer", "state": login.state})
        assert login.result().access_token == TOKEN
    assert keys[0] != keys[1]
    assert list(private.iterdir()) == []
