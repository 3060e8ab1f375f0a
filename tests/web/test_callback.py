"""The callback blueprint: relay page (R5, R22), single-use state (R20, R21), escaped errors (R3)."""
import re

import pytest
from flask import Flask

from service.environments import resolve
from service.errors import GcloginError
from service.web.callback import callback_blueprint, render_result
from service.oauth import TokenResponse, start_login
from service.profiles import GrantType


class Harness:
    def __init__(self, grant):
        self.pending = start_login(grant, client_id="cid", redirect_uri="http://localhost:1",
                                   endpoints=resolve("http://127.0.0.1:1"))
        self.used = False
        self.results = []
        self.codes = []
        app = Flask(__name__)
        app.register_blueprint(callback_blueprint(
            take_pending=self.take, on_success=self.ok, on_error=self.fail, exchange=self.exchange,
            path="/callback"))
        self.client = app.test_client()

    def take(self, _state):
        if self.used:
            return None
        self.used = True
        return self.pending

    def ok(self, pending, token):
        self.results.append(token)
        return render_result(True, "Login complete")

    def fail(self, pending, error: GcloginError):
        self.results.append(error)
        return render_result(False, "Login failed", str(error), 400)

    def exchange(self, pending, code):
        self.codes.append((pending.endpoints.token_url, code))
        return TokenResponse("tok-from-code", "bearer", 60)


def test_relay_page_is_locked_down():
    h = Harness(GrantType.IMPLICIT)
    resp = h.client.get("/callback")
    body = resp.get_data(as_text=True)
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in body
    assert "default-src 'none'" in csp and "form-action 'self'" in csp
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "history.replaceState" in body and 'method="post" action="/callback"' in body
    # The web service's page submits the form (its answer is a redirect): no fetch() allowed.
    assert 'data-send="form"' in body and "connect-src" not in csp
    assert "http" not in re.sub(r'<meta[^>]*>', "", body).replace("secure HTTP", "")  # nothing third-party
    assert h.client.get("/callback").headers["Content-Security-Policy"] != csp  # fresh nonce
    assert not h.used  # showing the page consumes nothing


def test_implicit_post_succeeds_once_then_replay_is_refused():
    h = Harness(GrantType.IMPLICIT)
    fragment = f"access_token=tok&token_type=Bearer&expires_in=60&state={h.pending.state}"
    assert h.client.post("/callback", data={"fragment": fragment}).status_code == 200
    assert h.results[0].access_token == "tok"
    replay = h.client.post("/callback", data={"fragment": fragment})
    assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)


def test_wrong_state_fails_the_login():
    h = Harness(GrantType.IMPLICIT)
    resp = h.client.post("/callback", data={"fragment": "access_token=tok&token_type=bearer&state=nope"})
    assert resp.status_code == 400
    assert type(h.results[0]).__name__ == "StateError"


def test_error_fragment_description_is_escaped():
    h = Harness(GrantType.IMPLICIT)
    fragment = f"error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state={h.pending.state}"
    resp = h.client.post("/callback", data={"fragment": fragment})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    assert h.results[0].error == "access_denied"


def test_pkce_code_is_exchanged_at_the_login_issuer():
    h = Harness(GrantType.PKCE)
    resp = h.client.get(f"/callback?code=the-code&state={h.pending.state}")
    assert resp.status_code == 200
    assert h.codes == [("http://127.0.0.1:1/oauth/token", "the-code")]
    assert h.results[0].access_token == "tok-from-code"
    assert h.client.get(f"/callback?code=the-code&state={h.pending.state}").status_code == 400
    assert len(h.codes) == 1


@pytest.mark.parametrize("query", ["code=c", "code=c&state=wrong", "error=access_denied"])
def test_pkce_bad_state_never_exchanges(query):
    h = Harness(GrantType.PKCE)
    assert h.client.get(f"/callback?{query}").status_code == 400
    assert h.codes == []


def test_grant_mismatch_is_refused():
    h = Harness(GrantType.PKCE)
    fragment = f"access_token=tok&token_type=bearer&state={h.pending.state}"
    assert h.client.post("/callback", data={"fragment": fragment}).status_code == 400
    assert "expected a code" in str(h.results[0])
