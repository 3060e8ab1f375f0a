"""The /mock/ control API: off by default, behind its bearer secret, each endpoint's effect,
bad bodies named, scripted sign-ins completed by a plain HTTP client following redirects."""
from __future__ import annotations

import socket
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from mock_idp import ConfigError, create_app
from mock_idp.control_rules import (REDACTED, SECRET_FIELDS, BadField, parse_clock_move, parse_fault,
                                   parse_next_login, parse_token_order, redact_json, redact_pairs)
from mock_idp.testing import app_config
from devtools.servers import wsgi_server

from .conftest import ALICE, BOB, CC, IMPLICIT, PKCE, bearer, cc_token, pkce_pair

SECRET = "control-secret-for-tests"
AUTH = bearer(SECRET)
PATHS = ["/mock/tokens", "/mock/users", "/mock/clients", "/mock/next-login", "/mock/faults",
         "/mock/requests", "/mock/clock", "/mock/reset"]


@pytest.fixture
def control(tmp_path, clock):
    return create_app(app_config(tmp_path, CLOCK=clock, CONTROL_TOKEN=SECRET)).test_client()


@pytest.mark.parametrize("path", PATHS)
def test_every_control_path_is_404_when_off(client, path):
    assert client.post(path, json={}, headers=AUTH).status_code == 404
    assert client.get(path, headers=AUTH).status_code == 404


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("headers", [{}, bearer("wrong"), {"Authorization": f"Basic {SECRET}"},
                                     bearer(SECRET + "x")])
def test_a_missing_or_wrong_secret_is_401(control, path, headers):
    response = control.open(path, method="GET" if path == "/mock/requests" else "POST", json={}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert SECRET not in response.get_data(as_text=True)


def test_switching_it_on_logs_a_warning(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="mock_idp.control"):
        create_app(app_config(tmp_path, CONTROL_TOKEN=SECRET))
    assert any("control API is ON" in r.getMessage() for r in caplog.records)
    assert not any(SECRET in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("value", [12345, True, "has space", "tab\tx"])
def test_a_bad_control_token_setting_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="MOCK_IDP_CONTROL_TOKEN"):
        create_app(app_config(tmp_path, CONTROL_TOKEN=value))


def test_issue_token_with_user_lifetime_and_scope(control, clock):
    body = control.post("/mock/tokens", headers=AUTH, json={
        "client_id": IMPLICIT.id, "user": ALICE.username, "expires_in": 600, "scope": ["a", "b"]}).json
    assert body["expires_in"] == 600 and body["scope"] == "a b"
    me = control.get("/api/v2/tokens/me", headers=bearer(body["access_token"])).json
    assert me["mockIdp"]["user"]["id"] == ALICE.id and me["authorizedScope"] == ["a", "b"]
    assert me["mockIdp"]["expiresInSeconds"] == 600
    clock.advance(601)
    assert control.get("/api/v2/users/me", headers=bearer(body["access_token"])).status_code == 401


@pytest.mark.parametrize("path, body, field", [
    ("/mock/tokens", {}, "client_id"),
    ("/mock/tokens", {"client_id": "nope"}, "client_id"),
    ("/mock/tokens", {"client_id": IMPLICIT.id, "user": "nobody"}, "user"),
    ("/mock/tokens", {"client_id": CC.id, "user": ALICE.id}, "user"),
    ("/mock/tokens", {"client_id": CC.id, "expires_in": -1}, "expires_in"),
    ("/mock/tokens", {"client_id": CC.id, "scope": 'a"b'}, "scope"),
    ("/mock/tokens", {"client_id": CC.id, "colour": 1}, "colour"),
    ("/mock/tokens", [1], "body"),
    ("/mock/users", {"id": "u", "name": "N", "email": "e", "username": "n"}, "password"),
    ("/mock/users", {"id": "u", "name": "", "email": "e", "username": "n", "password": "p"}, "name"),
    ("/mock/clients", {"id": "c", "secret": "", "name": "C", "authorized_grant_type": "CLIENT-CREDENTIALS"}, "secret"),
    ("/mock/clients", {"id": "c", "secret": "", "name": "C", "authorized_grant_type": "TOKEN"}, "registered_redirect_uri"),
    ("/mock/next-login", {}, "user"),
    ("/mock/next-login", {"user": "nobody"}, "user"),
    ("/mock/next-login", {"outcome": "error=teapot"}, "outcome"),
    ("/mock/next-login", {"user": ALICE.id, "count": 0}, "count"),
    ("/mock/faults", {"kind": "explode"}, "kind"),
    ("/mock/faults", {"kind": "status"}, "status"),
    ("/mock/faults", {"status": 200}, "status"),
    ("/mock/faults", {"kind": "delay", "seconds": 1e9}, "seconds"),
    ("/mock/faults", {"kind": "drop", "path": "/mock/reset"}, "path"),
    ("/mock/faults", {"kind": "rate_limit", "retry_after": "soon"}, "retry_after"),
    ("/mock/clock", {}, "advance"),
    ("/mock/clock", {"advance": "1h"}, "advance"),
])
def test_bad_bodies_are_400_naming_the_field(control, path, body, field):
    response = control.post(path, json=body, headers=AUTH)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field and field in response.json["message"]


def test_a_body_that_is_not_json_is_400(control):
    response = control.post("/mock/faults", data="{", headers=AUTH, content_type="application/json")
    assert response.status_code == 400 and response.json["field"] == "body"


def test_users_and_clients_in_the_seed_shape(control):
    user = {"id": "u-carol", "name": "Carol", "email": "carol@example.com", "username": "carol",
            "password": "carol-pw", "title": "Manager", "department": "Sales"}
    created = control.post("/mock/users", headers=AUTH, json=user)
    assert created.status_code == 201 and created.json["title"] == "Manager"
    assert "password" not in created.json
    client = {"id": "ci-client", "secret": "ci-secret", "name": "CI", "authorized_grant_type": "CLIENT-CREDENTIALS",
              "roles": ["admin"]}
    assert control.post("/mock/clients", headers=AUTH, json=client).status_code == 201
    assert cc_token(control, "ci-client", "ci-secret")
    token = control.post("/mock/tokens", headers=AUTH, json={"client_id": IMPLICIT.id, "user": "carol"}).json
    me = control.get("/api/v2/users/me", headers=bearer(token["access_token"])).json
    assert (me["name"], me["email"], me["title"], me["department"]) == ("Carol", "carol@example.com", "Manager", "Sales")


def test_users_me_answers_as_whoever_signed_in(tmp_path):
    seed = tmp_path / "seed.toml"
    seed.write_text('''
[[users]]
id = "u1"
name = "Dana"
email = "dana@example.com"
username = "dana"
password = "pw"
title = "Agent"
skills = ["chat", "voice"]

[[users]]
id = "u2"
name = "Eli"
email = "eli@example.com"
username = "eli"
password = "pw"

[[clients]]
id = "impl"
secret = ""
name = "Implicit"
authorized_grant_type = "TOKEN"
registered_redirect_uri = ["http://127.0.0.1:9/cb"]
''')
    client = create_app(app_config(tmp_path, SEED=str(seed), CONTROL_TOKEN=SECRET)).test_client()
    seen = {}
    for username in ("dana", "eli"):
        token = client.post("/mock/tokens", headers=AUTH, json={"client_id": "impl", "user": username}).json
        seen[username] = client.get("/api/v2/users/me", headers=bearer(token["access_token"])).json
    assert seen["dana"]["title"] == "Agent" and seen["dana"]["skills"] == ["chat", "voice"]
    assert seen["eli"]["name"] == "Eli" and "title" not in seen["eli"]


def test_faults_expire_after_their_count_and_match_method_and_path(control):
    control.post("/mock/faults", headers=AUTH, json={"status": 503, "path": "/oauth/token", "count": 2})
    control.post("/mock/faults", headers=AUTH, json={"status": 500, "path": "/api/v2/users/me", "method": "DELETE"})
    assert len(control.get("/mock/faults", headers=AUTH).json["entities"]) == 2
    answers = [control.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(CC.id, CC.secret))
               for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json["error"] == "temporarily_unavailable"
    assert control.get("/api/v2/users/me").status_code == 401  # a GET: the DELETE fault waits
    assert [f["method"] for f in control.get("/mock/faults", headers=AUTH).json["entities"]] == ["DELETE"]
    assert control.delete("/mock/faults", headers=AUTH).status_code == 204
    assert control.get("/mock/faults", headers=AUTH).json["entities"] == []


def test_status_faults_answer_genesys_bodies_on_the_api(control):
    control.post("/mock/faults", headers=AUTH, json={"status": 502, "path": "/api/v2/users/me",
                                                     "message": "upstream said no"})
    answer = control.get("/api/v2/users/me")
    assert answer.status_code == 502
    assert answer.json["code"] == "bad.gateway" and answer.json["message"] == "upstream said no"
    assert answer.json["contextId"] == answer.headers["ININ-Correlation-Id"]


def test_rate_limit_is_429_with_retry_after(control):
    control.post("/mock/faults", headers=AUTH, json={"kind": "rate_limit", "retry_after": 17})
    answer = control.get("/api/v2/tokens/me")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "17"
    assert answer.json["code"] == "too.many.requests" and "[17] seconds" in answer.json["message"]


def test_received_requests_are_listed_with_secrets_redacted(control):
    control.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": CC.id,
                                       "client_secret": CC.secret})
    control.get("/api/v2/users/me?access_token=leak", headers=bearer("some-token-value"))
    control.post("/mock/reset", headers=AUTH)  # control requests are not recorded, and reset clears
    assert control.get("/mock/requests", headers=AUTH).json["entities"] == []
    control.post("/oauth/token", data={"grant_type": "client_credentials", "client_secret": CC.secret},
                 auth=(CC.id, CC.secret))
    control.get("/api/v2/users/me?access_token=leak", headers=bearer("some-token-value"))
    listed = control.get("/mock/requests", headers=AUTH)
    text = listed.get_data(as_text=True)
    for secret in (CC.secret, "leak", "some-token-value", SECRET):
        assert secret not in text
    token_request, me = listed.json["entities"]
    assert token_request["form"] == {"grant_type": "client_credentials", "client_secret": REDACTED}
    assert token_request["headers"]["Authorization"] == f"Basic {REDACTED}" and token_request["status"] == 400
    assert me["query"] == {"access_token": REDACTED} and me["status"] == 401
    assert control.delete("/mock/requests", headers=AUTH).status_code == 204
    assert control.get("/mock/requests", headers=AUTH).json["entities"] == []


def test_the_clock_moves_and_reset_puts_it_back(control, clock):
    token = control.post("/mock/tokens", headers=AUTH, json={"client_id": CC.id, "expires_in": 300}).json
    start = control.get("/mock/clock", headers=AUTH).json
    assert start == {"now": clock.now, "offset": 0.0}
    assert control.post("/mock/clock", headers=AUTH, json={"advance": 301}).json["now"] == clock.now + 301
    assert control.get("/api/v2/tokens/me", headers=bearer(token["access_token"])).status_code == 401
    assert control.post("/mock/clock", headers=AUTH, json={"set": clock.now + 10}).json["offset"] == 10
    control.post("/mock/reset", headers=AUTH)
    assert control.get("/mock/clock", headers=AUTH).json["offset"] == 0.0


def test_reset_goes_back_to_the_seed(control):
    control.post("/mock/users", headers=AUTH, json={"id": "tmp", "name": "T", "email": "t", "username": "t",
                                                    "password": "p"})
    admin = bearer(cc_token(control))
    control.delete(f"/api/v2/oauth/clients/{PKCE.id}", headers=admin)
    control.post("/mock/next-login", headers=AUTH, json={"outcome": "deny"})
    control.post("/mock/faults", headers=AUTH, json={"kind": "drop"})
    assert control.post("/mock/reset", headers=AUTH).status_code == 204
    assert control.post("/mock/tokens", headers=AUTH, json={"client_id": IMPLICIT.id, "user": "t"}).status_code == 400
    assert control.get("/mock/next-login", headers=AUTH).json["entities"] == []
    assert control.get("/mock/faults", headers=AUTH).json["entities"] == []
    admin = bearer(cc_token(control))  # the older admin token died with its client's incarnation
    assert control.get(f"/api/v2/oauth/clients/{PKCE.id}", headers=admin).status_code == 200


@given(st.lists(st.tuples(st.sampled_from(sorted(SECRET_FIELDS) + ["grant_type", "state", "scope"]),
                          st.text(max_size=8))))
def test_redaction_keeps_names_and_drops_every_secret_value(pairs):
    shown = redact_pairs(pairs)
    assert set(shown) == {name for name, _ in pairs}
    for name, value in shown.items():
        values = value if isinstance(value, list) else [value]
        if name in SECRET_FIELDS:
            assert set(values) == {REDACTED}
    nested = redact_json({"outer": [dict(pairs)]})
    assert all(v == REDACTED for k, v in nested["outer"][0].items() if k in SECRET_FIELDS)


@given(st.dictionaries(st.sampled_from(["kind", "count", "path", "method", "status", "seconds", "retry_after",
                                        "error", "message", "body", "x"]),
                       st.one_of(st.none(), st.integers(-5, 700), st.text(max_size=6),
                                 st.sampled_from(["status", "delay", "drop", "rate_limit", "/oauth/token"]))))
def test_parse_fault_raises_only_bad_field(body):
    try:
        fault = parse_fault(body)
    except BadField as error:
        assert error.field
    else:
        assert fault.count >= 1 and fault.kind in ("status", "delay", "drop", "rate_limit")


# -- headless sign-ins over real HTTP -----------------------------------------------------
class Callback:
    """The app's redirect URI: records what the browser brings back."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []

    def __call__(self, environ, start_response):
        self.queries.append({k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()})
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]


@pytest.fixture
def app_callback(genesys_mock):
    """A redirect URI that answers, registered for new TOKEN and CODE clients through the API."""
    callback = Callback()
    with wsgi_server(callback) as url:
        redirect = url + "/callback"
        for client_id, grant in (("ci-implicit", "TOKEN"), ("ci-pkce", "CODE")):
            response = requests.post(genesys_mock.base_url + "/mock/clients", headers=bearer(genesys_mock.control_token),
                                     json={"id": client_id, "secret": "", "name": client_id,
                                           "authorized_grant_type": grant, "registered_redirect_uri": [redirect]},
                                     timeout=10)
            assert response.status_code == 201, response.text
        yield redirect, callback


def _script(mock, **body):
    response = requests.post(mock.base_url + "/mock/next-login", headers=bearer(mock.control_token), json=body,
                             timeout=10)
    assert response.status_code == 201, response.text


def test_a_headless_implicit_login_with_plain_http(genesys_mock, app_callback):
    redirect, _ = app_callback
    _script(genesys_mock, user=BOB.username)
    answer = requests.get(genesys_mock.base_url + "/oauth/authorize", timeout=10, params={
        "response_type": "token", "client_id": "ci-implicit", "redirect_uri": redirect, "state": "st-1"})
    assert answer.status_code == 200 and answer.url.startswith(redirect)
    location = answer.history[-1].headers["Location"]
    fragment = {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}
    assert fragment["state"] == "st-1"
    me = requests.get(genesys_mock.base_url + "/api/v2/users/me", timeout=10,
                      headers=bearer(fragment["access_token"])).json()
    assert me["username"] == BOB.username
    # The script was for one sign-in: the next one shows the form again.
    again = requests.get(genesys_mock.base_url + "/oauth/authorize", allow_redirects=False, timeout=10, params={
        "response_type": "token", "client_id": "ci-implicit", "redirect_uri": redirect, "state": "st-2"})
    assert again.status_code == 200 and "<form" in again.text


def test_a_headless_pkce_login_with_plain_http(genesys_mock, app_callback):
    redirect, callback = app_callback
    verifier, challenge = pkce_pair()
    _script(genesys_mock, user=ALICE.id, client_id="ci-pkce")
    answer = requests.get(genesys_mock.base_url + "/oauth/authorize", timeout=10, params={
        "response_type": "code", "client_id": "ci-pkce", "redirect_uri": redirect, "state": "st-3",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert answer.text == "ok"
    back = callback.queries[-1]
    assert back["state"] == "st-3"
    token = requests.post(genesys_mock.base_url + "/oauth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": redirect,
        "client_id": "ci-pkce", "code_verifier": verifier}).json()
    me = requests.get(genesys_mock.base_url + "/api/v2/users/me", headers=bearer(token["access_token"]), timeout=10)
    assert me.json()["id"] == ALICE.id
    exchange = next(r for r in genesys_mock.requests if r["path"] == "/oauth/token")
    assert exchange["form"]["code"] == REDACTED and exchange["form"]["code_verifier"] == REDACTED


@pytest.mark.parametrize("outcome, error", [("deny", "access_denied"),
                                            ("error=temporarily_unavailable", "temporarily_unavailable")])
def test_a_scripted_refusal_comes_back_to_the_app(genesys_mock, app_callback, outcome, error):
    redirect, callback = app_callback
    genesys_mock.next_login(outcome)
    _, challenge = pkce_pair()
    requests.get(genesys_mock.base_url + "/oauth/authorize", timeout=10, params={
        "response_type": "code", "client_id": "ci-pkce", "redirect_uri": redirect, "state": "st-4",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert callback.queries[-1]["error"] == error and callback.queries[-1]["state"] == "st-4"
    assert "code" not in callback.queries[-1]


def test_a_dropped_connection_gets_no_answer(genesys_mock):
    genesys_mock.fail("/api/v2/users/me", kind="drop")
    with pytest.raises(requests.ConnectionError):
        requests.get(genesys_mock.base_url + "/api/v2/users/me", timeout=10)
    assert requests.get(genesys_mock.base_url + "/api/v2/users/me", timeout=10).status_code == 401


def test_the_fixture_issues_tokens_and_freezes_the_clock(genesys_mock):
    token = genesys_mock.issue_token(IMPLICIT.id, ALICE.username, expires_in=60)
    me = requests.get(genesys_mock.base_url + "/api/v2/tokens/me", headers=bearer(token), timeout=10).json()
    assert me["mockIdp"]["expiresInSeconds"] == 60
    genesys_mock.clock.advance(61)
    assert requests.get(genesys_mock.base_url + "/api/v2/tokens/me", headers=bearer(token), timeout=10).status_code == 401
    assert [r["path"] for r in genesys_mock.requests] == ["/api/v2/tokens/me"] * 2
    with pytest.raises(ValueError, match="user"):
        genesys_mock.next_login("nobody@example.com")


def test_the_fixture_resets_between_tests_part_one(genesys_mock):
    genesys_mock.fail(kind="status", status=500, count=50)
    genesys_mock.clock.advance(10_000)


def test_the_fixture_resets_between_tests_part_two(genesys_mock):
    assert requests.get(genesys_mock.base_url + "/healthz", timeout=10).status_code == 200
    assert genesys_mock.clock.now == 1_700_000_000.0


def test_the_fixture_binds_loopback_only(genesys_mock):
    host, port = urlsplit(genesys_mock.base_url).hostname, urlsplit(genesys_mock.base_url).port
    assert host == "127.0.0.1"
    with socket.create_connection((host, port), timeout=5):
        pass
    assert threading.active_count() >= 2  # the server thread


def test_compose_leaves_it_off_unless_asked(tmp_path):
    import yaml
    compose = yaml.safe_load((Path(__file__).resolve().parents[2] / "compose.yaml").read_text())
    environment = compose["services"]["idp"]["environment"]
    assert environment["MOCK_IDP_CONTROL_TOKEN"] == "${MOCK_IDP_CONTROL_TOKEN:-}"
    # What compose passes when the variable is unset: an empty value, which is "off".
    client = create_app(app_config(tmp_path, CONTROL_TOKEN="")).test_client()
    assert client.post("/mock/reset", headers=AUTH).status_code == 404


@given(st.dictionaries(st.sampled_from(["user", "outcome", "client_id", "count", "error_description", "x"]),
                       st.one_of(st.none(), st.integers(-2, 20_000), st.text(max_size=8),
                                 st.sampled_from(["deny", "error=access_denied", "error=nope", "alice"]))))
def test_parse_next_login_raises_only_bad_field(body):
    try:
        login = parse_next_login(body)
    except BadField as error:
        assert error.field in body or error.field in ("user", "outcome")
    else:
        assert login.outcome in ("user", "deny", "error") and 1 <= login.count <= 10_000
        assert (login.user is not None) == (login.outcome == "user")


@given(st.dictionaries(st.sampled_from(["client_id", "user", "expires_in", "scope", "x"]),
                       st.one_of(st.none(), st.integers(-5, 200_000), st.text(max_size=8),
                                 st.lists(st.text(max_size=4), max_size=3))))
def test_parse_token_order_raises_only_bad_field(body):
    try:
        order = parse_token_order(body)
    except BadField as error:
        assert error.field
    else:
        assert order.client_id and (order.scope is None or '"' not in order.scope)


@given(st.floats(-1e6, 1e6), st.floats(0, 2e9), st.floats(-1e6, 1e6))
def test_clock_moves_add_up(advance, now, offset):
    assert parse_clock_move({"advance": advance}, now, offset) == offset + advance
    assert now + parse_clock_move({"set": 1_800_000_000}, now, offset) == pytest.approx(1_800_000_000)
