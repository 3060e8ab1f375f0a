"""GET/POST /oauth/authorize: login form, implicit (R1-R4) and code + PKCE (R13, R14)."""
from __future__ import annotations

import pytest

from mock_idp import create_app
from mock_idp.testing import app_config, issue_token, parse_login_form

from .conftest import (ALICE, BOB, CC, IMPLICIT, PKCE, REDIRECT, bearer, code_params, fragment,
                       implicit_params, pkce_pair, query)


def redeem(client, code, verifier, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": PKCE.id, "code_verifier": verifier, **extra}
    return client.post("/oauth/token", data=data)


# -- the login form -------------------------------------------------------------------
def test_login_form_fields_and_security_headers(login):
    page = login.start(**implicit_params())
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for snippet in ('name="username" id="username"', 'name="password" id="password"',
                    'type="submit"', IMPLICIT.name):
        assert snippet in html
    assert "<script" not in html and "http://" not in html.split("<form")[0].replace(
        'http://127.0.0.1:8080', '')  # no third-party resources
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self' http://127.0.0.1:8080" in csp  # the redirect after the POST
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_form_does_not_carry_the_request_in_the_clear(login):
    params = implicit_params()
    form = parse_login_form(login.start(**params).get_data(as_text=True))
    assert form.action == "/oauth/authorize"
    assert set(form.fields) == {"request_id", "csrf_token", "username", "password"}
    assert params["state"] not in form.fields.values()


def test_login_form_keeps_a_single_submit_button(login):
    """Others select `#login` / `[type=submit]`: Cancel lives in a second form without one."""
    html = login.start(**implicit_params()).get_data(as_text=True)
    login_form, _, rest = html.partition("</form>")
    assert html.count('type="submit"') == 1 and 'type="submit" id="login"' in login_form
    assert 'id="cancel"' not in login_form and 'id="cancel"' in rest
    form = parse_login_form(html)
    assert form.action == "/oauth/authorize"
    assert form.cancel_action == "/oauth/authorize/cancel"
    assert set(form.cancel_fields) == {"request_id", "csrf_token"}
    assert form.cancel_fields["request_id"] == form.fields["request_id"]


# -- implicit ---------------------------------------------------------------------------
def test_implicit_login_redirects_with_token_in_fragment(login, client):
    params = implicit_params()
    response = login.run(**params)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "#")
    values = fragment(location)
    assert values["token_type"] == "bearer"
    assert values["state"] == params["state"]
    assert int(values["expires_in"]) == IMPLICIT.access_token_validity_seconds
    me = client.get("/api/v2/users/me", headers=bearer(values["access_token"]))
    assert me.json["id"] == ALICE.id
    info = client.get("/api/v2/tokens/me", headers=bearer(values["access_token"])).json["mockIdp"]
    assert info["grantType"] == "implicit" and info["client"]["id"] == IMPLICIT.id


def test_redirects_carrying_tokens_or_codes_are_not_cached(login):
    """R12: the implicit redirect holds a token, the code redirect a code."""
    for response in (login.run(**implicit_params()), login.run(**code_params(pkce_pair()[1]))):
        assert response.status_code == 302
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"


@pytest.mark.parametrize("grant", ["TOKEN", "CODE"])
def test_browser_tokens_expire_per_the_clients_validity(app, client, login, clock, grant):
    admin = bearer(issue_token(app, CC.id))
    made = client.post("/api/v2/oauth/clients", headers=admin, json={
        "name": "short", "authorizedGrantType": grant, "registeredRedirectUri": [REDIRECT],
        "accessTokenValiditySeconds": 300,
        **({"mockIdp": {"publicClient": True}} if grant == "CODE" else {})}).json  # PKCE alone
    if grant == "TOKEN":
        values = fragment(login.run(**implicit_params(client_id=made["id"])).headers["Location"])
    else:
        verifier, challenge = pkce_pair()
        done = login.run(**code_params(challenge, client_id=made["id"]))
        values = redeem(client, query(done.headers["Location"])["code"], verifier,
                        client_id=made["id"]).json
    assert int(values["expires_in"]) == 300
    token = bearer(values["access_token"])
    clock.advance(299)
    assert client.get("/api/v2/users/me", headers=token).status_code == 200
    clock.advance(1)
    expired = client.get("/api/v2/users/me", headers=token)
    assert expired.status_code == 401 and expired.json["code"] == "bad.credentials"


def test_second_user_logs_in_as_themselves(login, client):
    response = login.run(username=BOB.username, password=BOB.password, **implicit_params())
    token = fragment(response.headers["Location"])["access_token"]
    assert client.get("/api/v2/users/me", headers=bearer(token)).json["email"] == BOB.email


def test_wrong_password_shows_the_form_again(login):
    page = login.start(**implicit_params())
    response = login.submit(page, password="not-the-password")
    assert response.status_code == 200
    assert "Location" not in response.headers
    form = parse_login_form(response.get_data(as_text=True))
    assert form.error == "Wrong username or password."
    assert form.fields["username"] == ALICE.username
    retry = login.submit(response)  # the same pending request still works
    assert retry.status_code == 302 and "access_token=" in retry.headers["Location"]


def test_unknown_user_is_the_same_error(login):
    response = login.submit(login.start(**implicit_params()), username="eve@example.com")
    assert parse_login_form(response.get_data(as_text=True)).error == "Wrong username or password."


def test_pending_request_is_single_use(login):
    page = login.start(**implicit_params())
    assert login.submit(page).status_code == 302
    again = login.submit(page)
    assert again.status_code == 400 and "Location" not in again.headers


def test_login_form_needs_the_csrf_token(login):
    page = login.start(**implicit_params())
    response = login.submit(page, csrf_token="forged")
    assert response.status_code == 403 and "Location" not in response.headers


def test_login_form_needs_the_browser_cookie(app, login):
    """A form posted from another browser (no binding cookie) is refused: login CSRF."""
    page = login.start(**implicit_params())
    form = parse_login_form(page.get_data(as_text=True))
    other_browser = app.test_client()
    response = other_browser.post(form.action, data={
        **form.fields, "username": ALICE.username, "password": ALICE.password})
    assert response.status_code == 403 and "Location" not in response.headers


def test_expired_pending_request(login, clock):
    page = login.start(**implicit_params())
    clock.advance(601)
    assert login.submit(page).status_code == 400


# -- errors that must not redirect (R4) ---------------------------------------------------
@pytest.mark.parametrize("overrides", [
    {"client_id": "no-such-client"},
    {"client_id": ""},
    {"redirect_uri": "http://127.0.0.1:8080/evil"},
    {"redirect_uri": "http://127.0.0.1:9999/callback"},
    {"redirect_uri": "http://127.0.0.1:8080/callback/127.0.0.1_8081/"},
    {"redirect_uri": "https://attacker.example/callback"},
])
@pytest.mark.parametrize("make", [implicit_params, lambda **o: code_params(pkce_pair()[1], **o)])
def test_unknown_client_or_redirect_uri_is_a_400_page(login, make, overrides):
    response = login.start(**make(**overrides))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("overrides, message", [
    ({"client_id": None}, "The parameter &#39;client_id&#39; is missing."),
    ({"client_id": "no-such-client"}, "Unknown client"),
    ({"client_id": "caf\u00e9"}, "printable ASCII only"),
    ({"client_id": CC.id}, "grant type is CLIENT-CREDENTIALS"),
])
def test_client_problems_are_named_on_the_page(login, overrides, message):
    params = {k: v for k, v in implicit_params(**overrides).items() if v is not None}
    response = login.start(**params)
    assert response.status_code == 400 and "Location" not in response.headers
    assert message in response.get_data(as_text=True)


def test_overlong_authorize_request_is_a_414_page(login):
    response = login.start(**implicit_params(state="s" * 5000))
    assert response.status_code == 414 and "Location" not in response.headers
    assert "longer than" in response.get_data(as_text=True)


QUOTED_ID = 'a "quoted" \\ id'  # VSCHAR (RFC 6749 Appendix A.1): allowed, must work


@pytest.fixture
def quoted(tmp_path, clock):
    import tomlkit
    doc = {"users": [{"id": "u1", "name": "U", "email": "u@example.com", "username": "u",
                      "password": "p"}],
           "clients": [{"id": QUOTED_ID + kind, "secret": "", "name": "quoted",
                        "authorized_grant_type": kind, "registered_redirect_uri": [REDIRECT]}
                       for kind in ("TOKEN", "CODE")]}
    seed = tmp_path / "seed.toml"
    seed.write_text(tomlkit.dumps(doc))
    return create_app(app_config(tmp_path, SEED=str(seed), CLOCK=clock)).test_client()


def test_client_ids_with_quotes_and_backslashes_work(quoted):
    from .conftest import Login
    login = Login(quoted)
    values = fragment(login.run("u", "p", **implicit_params(client_id=QUOTED_ID + "TOKEN"))
                      .headers["Location"])
    info = quoted.get("/api/v2/tokens/me", headers=bearer(values["access_token"])).json
    assert info["OAuthClient"]["id"] == QUOTED_ID + "TOKEN"
    verifier, challenge = pkce_pair()
    done = login.run("u", "p", **code_params(challenge, client_id=QUOTED_ID + "CODE"))
    token = redeem(quoted, query(done.headers["Location"])["code"], verifier,
                   client_id=QUOTED_ID + "CODE")
    assert token.status_code == 200, token.json
    denied = login.start(**code_params(challenge, client_id=QUOTED_ID + "TOKEN"))
    assert query(denied.headers["Location"])["error"] == "unauthorized_client"


def test_repeated_parameter_is_a_400_page(client):
    response = client.get("/oauth/authorize?response_type=token&client_id=" + IMPLICIT.id
                          + "&client_id=" + PKCE.id + "&redirect_uri=" + REDIRECT)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "client_id" in response.get_data(as_text=True)


# -- errors that redirect (R3) --------------------------------------------------------------
def test_unsupported_response_type_redirects_with_error_and_state(login):
    params = implicit_params(response_type="id_token")
    response = login.start(**params)
    assert response.status_code == 302
    values = query(response.headers["Location"])
    assert values["error"] == "unsupported_response_type"
    assert values["state"] == params["state"]


def test_implicit_client_asking_for_a_code_is_unauthorized_client(login):
    params = code_params(pkce_pair()[1], client_id=IMPLICIT.id)
    values = query(login.start(**params).headers["Location"])
    assert values["error"] == "unauthorized_client" and values["state"] == params["state"]


def test_pkce_client_asking_for_a_token_gets_fragment_error(login):
    params = implicit_params(client_id=PKCE.id)
    response = login.start(**params)
    values = fragment(response.headers["Location"])
    assert values["error"] == "unauthorized_client" and values["state"] == params["state"]


def test_invalid_scope_redirects_in_the_fragment_for_implicit(login):
    params = implicit_params(scope="admin")
    values = fragment(login.start(**params).headers["Location"])
    assert values["error"] == "invalid_scope" and values["state"] == params["state"]


@pytest.mark.parametrize("overrides, fragment_text", [
    ({"code_challenge": None, "code_challenge_method": None}, "code_challenge"),
    ({"code_challenge_method": "plain"}, "code_challenge_method"),
    ({"code_challenge_method": None}, "S256"),
    ({"code_challenge": "short"}, "code_challenge"),
])
def test_pkce_is_required_and_s256_only(login, overrides, fragment_text):
    params = {k: v for k, v in code_params(pkce_pair()[1], **overrides).items() if v is not None}
    response = login.start(**params)
    assert response.status_code == 302
    values = query(response.headers["Location"])
    assert values["error"] == "invalid_request"
    assert fragment_text in values["error_description"]
    assert values["state"] == params["state"]


# -- code + PKCE ---------------------------------------------------------------------------
def test_code_flow_with_pkce(login, client):
    verifier, challenge = pkce_pair()
    params = code_params(challenge)
    response = login.run(**params)
    assert response.status_code == 302
    values = query(response.headers["Location"])
    assert response.headers["Location"].startswith(REDIRECT + "?")
    assert values["state"] == params["state"] and "access_token" not in values
    token = redeem(client, values["code"], verifier)
    assert token.status_code == 200, token.json
    assert token.json["token_type"] == "bearer" and "refresh_token" not in token.json
    assert token.headers["Cache-Control"] == "no-store"
    me = client.get("/api/v2/users/me", headers=bearer(token.json["access_token"]))
    assert me.json["username"] == ALICE.username


def test_code_is_single_use_and_reuse_revokes_its_token(login, client):
    verifier, challenge = pkce_pair()
    code = query(login.run(**code_params(challenge)).headers["Location"])["code"]
    first = redeem(client, code, verifier)
    assert first.status_code == 200
    second = redeem(client, code, verifier)
    assert second.status_code == 400 and second.json["error"] == "invalid_grant"
    me = client.get("/api/v2/users/me", headers=bearer(first.json["access_token"]))
    assert me.status_code == 401  # RFC 6749 §4.1.2: tokens from a replayed code are revoked


def test_code_expires_after_60_seconds(login, client, clock):
    verifier, challenge = pkce_pair()
    code = query(login.run(**code_params(challenge)).headers["Location"])["code"]
    clock.advance(60)
    response = redeem(client, code, verifier)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


@pytest.mark.parametrize("extra, error", [
    ({"code_verifier": "x" * 43}, "invalid_grant"),
    ({"code_verifier": "short"}, "invalid_request"),
    ({"code_verifier": ""}, "invalid_request"),
    ({"redirect_uri": "http://localhost:8080/callback/localhost_8081"}, "invalid_grant"),
    ({"client_id": IMPLICIT.id}, "unauthorized_client"),
    ({"client_id": "no-such-client"}, "invalid_client"),
    ({"code": "not-a-code"}, "invalid_grant"),
])
def test_code_redemption_errors(login, client, extra, error):
    extra = dict(extra)  # the table is shared by both engines' runs
    verifier, challenge = pkce_pair()
    code = query(login.run(**code_params(challenge)).headers["Location"])["code"]
    response = redeem(client, extra.pop("code", code), verifier, **extra)
    assert response.status_code in (400, 401)
    assert response.json["error"] == error


def test_code_issued_to_one_client_cannot_be_redeemed_by_another(tmp_path, clock):
    seed = tmp_path / "seed.toml"
    seed.write_text(
        '[[users]]\nid = "u1"\nname = "U"\nemail = "u@example.com"\nusername = "u"\npassword = "p"\n'
        + "".join(f'[[clients]]\nid = "{cid}"\nsecret = ""\nname = "{cid}"\n'
                  f'authorized_grant_type = "CODE"\nregistered_redirect_uri = ["{REDIRECT}"]\n'
                  for cid in ("one", "two")))
    client = create_app(app_config(tmp_path, SEED=str(seed), CLOCK=clock)).test_client()
    verifier, challenge = pkce_pair()
    page = client.get("/oauth/authorize", query_string=code_params(challenge, client_id="one"))
    form = parse_login_form(page.get_data(as_text=True))
    done = client.post(form.action, data={**form.fields, "username": "u", "password": "p"})
    code = query(done.headers["Location"])["code"]
    stolen = redeem(client, code, verifier, client_id="two")
    assert stolen.status_code == 400 and stolen.json["error"] == "invalid_grant"
    assert redeem(client, code, verifier, client_id="one").status_code == 200


# -- redirect URI rules (R16, R17) ----------------------------------------------------------
@pytest.mark.parametrize("uri", ["http://localhost:8080", "http://127.0.0.1:8080",
                                 "https://localhost:8080", "http://localhost:8080/callback/localhost_8081"])
def test_registered_demo_redirect_uris(login, uri):
    response = login.run(**implicit_params(redirect_uri=uri))
    location = response.headers["Location"]
    assert location.startswith(uri + "#") and "access_token" in fragment(location)


@pytest.mark.parametrize("uri, any_port_ok", [
    ("http://127.0.0.1:51234", True),
    ("http://127.0.0.1:51234/callback/127.0.0.1_8081", True),
    ("http://localhost:51234", False),     # RFC 8252 §8.3: not for localhost
    ("https://localhost:51234", False),
    ("http://127.0.0.1:51234/other", False),
])
@pytest.mark.parametrize("any_port", [False, True])
def test_loopback_any_port_setting(tmp_path, clock, monkeypatch, uri, any_port_ok, any_port):
    if any_port:
        monkeypatch.setenv("MOCK_IDP_LOOPBACK_ANY_PORT", "1")
    client = create_app(app_config(tmp_path, CLOCK=clock)).test_client()
    response = client.get("/oauth/authorize", query_string=implicit_params(redirect_uri=uri))
    assert response.status_code == (200 if any_port and any_port_ok else 400)


def test_client_credentials_client_cannot_log_users_in(login):
    response = login.start(**implicit_params(client_id=CC.id))
    assert response.status_code == 400 and "Location" not in response.headers


def test_client_deleted_while_form_is_open(login, app, client):
    from mock_idp.testing import issue_token
    page = login.start(**implicit_params())
    admin = issue_token(app, CC.id)
    assert client.delete(f"/api/v2/oauth/clients/{IMPLICIT.id}",
                         headers=bearer(admin)).status_code == 204
    response = login.submit(page)
    assert response.status_code == 400 and "Location" not in response.headers


# -- cancel: access_denied (R3; RFC 6749 §4.1.2.1, §4.2.2.1) ------------------------------------
def cancel(client, page, **extra):
    form = parse_login_form(page.get_data(as_text=True))
    return client.post(form.cancel_action, data={**form.cancel_fields, **extra})


def test_cancel_implicit_returns_access_denied_in_the_fragment(login, client):
    params = implicit_params()
    response = cancel(client, login.start(**params))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "#") and "?" not in location
    values = fragment(location)
    assert values["error"] == "access_denied" and values["state"] == params["state"]
    assert values["error_description"] == "The user cancelled the sign-in."
    assert "access_token" not in values


def test_cancel_code_returns_access_denied_in_the_query(login, client):
    params = code_params(pkce_pair()[1])
    response = cancel(client, login.start(**params))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?") and "#" not in location
    values = query(location)
    assert values["error"] == "access_denied" and values["state"] == params["state"]
    assert values["error_description"] and "code" not in values


def test_cancel_without_state_sends_none(login, client):
    params = {k: v for k, v in implicit_params().items() if k != "state"}
    values = fragment(cancel(client, login.start(**params)).headers["Location"])
    assert values["error"] == "access_denied" and "state" not in values


def test_cancel_after_a_wrong_password(login, client):
    page = login.start(**implicit_params())
    retry = login.submit(page, password="not-the-password")
    assert fragment(cancel(client, retry).headers["Location"])["error"] == "access_denied"


def test_cancel_ends_the_pending_request(login, client):
    page = login.start(**implicit_params())
    assert cancel(client, page).status_code == 302
    assert login.submit(page).status_code == 400  # no login after cancelling
    again = cancel(client, page)
    assert again.status_code == 400 and "Location" not in again.headers


def test_cancel_after_login_is_refused(login, client):
    page = login.start(**implicit_params())
    assert login.submit(page).status_code == 302
    assert cancel(client, page).status_code == 400


@pytest.mark.parametrize("extra", [{"csrf_token": "forged"}, {"request_id": "nope"}])
def test_cancel_is_checked_like_the_login_form(login, client, extra):
    response = cancel(client, login.start(**implicit_params()), **extra)
    assert response.status_code in (400, 403) and "Location" not in response.headers


def test_cancel_from_another_browser_is_refused(app, login):
    """A cross-site post (no binding cookie) cannot deny a victim's login either."""
    page = login.start(**implicit_params())
    form = parse_login_form(page.get_data(as_text=True))
    response = app.test_client().post(form.cancel_action, data=form.cancel_fields)
    assert response.status_code == 403 and "Location" not in response.headers
    assert login.submit(page).status_code == 302  # the real login still works


def test_cancel_when_the_client_is_gone_is_a_page(login, app, client):
    from mock_idp.testing import issue_token
    page = login.start(**implicit_params())
    client.delete(f"/api/v2/oauth/clients/{IMPLICIT.id}", headers=bearer(issue_token(app, CC.id)))
    response = cancel(client, page)
    assert response.status_code == 400 and "Location" not in response.headers
