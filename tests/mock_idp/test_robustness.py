"""Random and malformed input never yields a 5xx or a traceback (Hypothesis drives it)."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from mock_idp import create_app
from mock_idp.testing import app_config, issue_token

from .conftest import ALICE, CC, IMPLICIT, PKCE, REDIRECT

# Latin-1 without controls: what an HTTP header or a form can carry through the test client.
chars = st.characters(min_codepoint=0x20, max_codepoint=0x2FF, blacklist_categories=("Cs",))
text = st.text(chars, max_size=40)
names = st.sampled_from(["response_type", "client_id", "redirect_uri", "scope", "state",
                         "code_challenge", "code_challenge_method", "grant_type", "code",
                         "code_verifier", "client_secret", "username", "password",
                         "request_id", "csrf_token", "x"])
values = st.one_of(text, st.sampled_from(
    ["token", "code", "client_credentials", "authorization_code", "S256", "plain", IMPLICIT.id,
     PKCE.id, CC.id, CC.secret, REDIRECT, "http://localhost:8080", "", "%", "\u00e9", '"\\']))
params = st.lists(st.tuples(names, values), max_size=8).map(MultiDict)
headers = st.fixed_dictionaries({}, optional={
    "Authorization": st.one_of(text, text.map(lambda t: "Basic " + t),
                               text.map(lambda t: "Bearer " + t)),
    "Content-Type": st.sampled_from(["application/x-www-form-urlencoded", "application/json",
                                     "text/plain", "multipart/form-data; boundary=x", ""]),
    "Cookie": text.map(lambda t: "mock_idp_login=" + t),
})
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    app = create_app(app_config(tmp_path_factory.mktemp("fuzz")))
    return app


def assert_handled(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and 'File "' not in body


@SETTINGS
@given(params, headers)
def test_authorize_get(fuzz_app, query, hdrs):
    assert_handled(fuzz_app.test_client().get("/oauth/authorize", query_string=query,
                                              headers=hdrs))


@SETTINGS
@given(params, headers, st.sampled_from(["/oauth/authorize", "/oauth/authorize/cancel"]))
def test_authorize_post(fuzz_app, form, hdrs, path):
    hdrs = {k: v for k, v in hdrs.items() if k != "Content-Type"}
    assert_handled(fuzz_app.test_client().post(path, data=form, headers=hdrs))


@SETTINGS
@given(params, headers, st.booleans())
def test_token_endpoint(fuzz_app, form, hdrs, in_query):
    client = fuzz_app.test_client()
    if in_query:
        response = client.post("/oauth/token", query_string=form, headers=hdrs)
    else:
        hdrs = {k: v for k, v in hdrs.items() if k != "Content-Type"}
        response = client.post("/oauth/token", data=form, headers=hdrs)
    assert_handled(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.is_json and ("access_token" in response.json or "error" in response.json)


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["application/x-www-form-urlencoded",
                                                 "application/json", "text/plain"]))
def test_token_endpoint_raw_bodies(fuzz_app, body, content_type):
    assert_handled(fuzz_app.test_client().post("/oauth/token", data=body,
                                               content_type=content_type))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "description", "authorizedGrantType", "registeredRedirectUri",
                         "scope", "accessTokenValiditySeconds", "roles", "id", "secret"]),
        inner, max_size=7), max_leaves=15)


@SETTINGS
@given(json_values, st.sampled_from(["POST", "PUT"]))
def test_admin_api_bodies(fuzz_app, body, method):
    token = issue_token(fuzz_app, CC.id)
    path = "/api/v2/oauth/clients" + ("/" + IMPLICIT.id if method == "PUT" else "")
    response = fuzz_app.test_client().open(path, method=method, data=json.dumps(body),
                                           content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert_handled(response)
    assert response.status_code in (200, 400)
    if response.status_code == 200 and method == "POST":
        fuzz_app.extensions["mock_idp"].store.delete_client(response.json["id"])


@SETTINGS
@given(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
       st.sampled_from(["/api/v2/users/me", "/api/v2/tokens/me", "/api/v2/oauth/clients",
                        "/api/v2/oauth/clients/" + PKCE.id, "/api/v2/x", "/healthz",
                        "/oauth/authorize", "/oauth/authorize/cancel", "/oauth/token", "/nope"]),
       headers, st.binary(max_size=100))
def test_any_route_any_method(fuzz_app, method, path, hdrs, body):
    if path.startswith("/api/v2/oauth/clients") and method in ("DELETE", "PUT"):
        return  # would change the shared app; covered above
    response = fuzz_app.test_client().open(path, method=method, headers=hdrs, data=body)
    assert_handled(response)
    if path == "/oauth/token":  # R12 on every answer, 405s included
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"
    if path.startswith("/api/"):
        assert response.headers["ININ-Correlation-Id"]
        assert response.headers["Cache-Control"] == "no-store"
        if response.status_code >= 400:
            assert {"message", "code", "status", "contextId"} <= set(response.json)


def test_repeated_login_form_fields(fuzz_app):
    response = fuzz_app.test_client().post("/oauth/authorize", data=MultiDict([
        ("request_id", "a"), ("request_id", "b")]))
    assert response.status_code == 400 and "repeated" in response.get_data(as_text=True)


def test_real_bugs_are_500_without_internals(tmp_path, caplog):
    app = create_app(app_config(tmp_path))

    @app.get("/api/v2/boom")
    def boom():
        raise RuntimeError("internal detail " + ALICE.password)

    response = app.test_client().get("/api/v2/boom")
    assert response.status_code == 500
    assert response.json["code"] == "internal.server.error"
    assert ALICE.password not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


@pytest.mark.parametrize("name, value", [
    ("redirect_uri", 'http://127.0.0.1:8080/"x'), ("redirect_uri", "http://127.0.0.1:8080/\u00e9"),
    ("response_type", "tok\u00e9n"), ("response_type", 'a"b'), ("client_id", "a\\b"), ("client_id", "caf\u00e9"),
])
def test_characters_authlib_cannot_put_in_an_error(fuzz_app, name, value):
    query = {"response_type": "token", "client_id": IMPLICIT.id, "redirect_uri": REDIRECT,
             name: value}
    response = fuzz_app.test_client().get("/oauth/authorize", query_string=query)
    assert response.status_code == 400 and "Location" not in response.headers
    assert name in response.get_data(as_text=True)


AUTHORIZE_SINGLE = ["response_type", "client_id", "redirect_uri", "scope", "state",
                    "code_challenge", "code_challenge_method"]


@pytest.mark.parametrize("name", AUTHORIZE_SINGLE)
def test_every_repeated_authorize_parameter_is_a_400_page(fuzz_app, name):
    query = MultiDict({"response_type": "code", "client_id": PKCE.id, "redirect_uri": REDIRECT,
                       "state": "s", "code_challenge": "c" * 43, "code_challenge_method": "S256"})
    query.add(name, query.get(name, "x"))
    query.add(name, "y")
    response = fuzz_app.test_client().get("/oauth/authorize", query_string=query)
    assert response.status_code == 400 and "Location" not in response.headers
    assert f"parameter &#39;{name}&#39; is repeated" in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["grant_type", "code", "redirect_uri", "client_id",
                                  "code_verifier", "client_secret", "scope"])
def test_every_repeated_token_parameter_is_invalid_request(fuzz_app, name):
    form = MultiDict({"grant_type": "authorization_code", "code": "x", "client_id": PKCE.id})
    form.add(name, "a")
    form.add(name, "b")
    response = fuzz_app.test_client().post("/oauth/token", data=form)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert f"'{name}' is repeated" in response.json["error_description"]


@pytest.mark.parametrize("path, data, content_type", [
    ("/oauth/authorize", {"request_id": "x" * 100_000}, None),
    ("/oauth/authorize/cancel", {"request_id": "x" * 100_000}, None),
    ("/oauth/authorize", b"x" * 100_000, "multipart/form-data; boundary=x"),
])
def test_oversized_login_posts_are_413_pages(fuzz_app, path, data, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    response = fuzz_app.test_client().post(path, data=data, **kwargs)
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "Location" not in response.headers and "Traceback" not in response.get_data(as_text=True)


def test_oversized_bodies_elsewhere_are_413_in_the_endpoint_format(fuzz_app):
    token = issue_token(fuzz_app, CC.id)
    api = fuzz_app.test_client().post("/api/v2/oauth/clients", data="x" * 100_000,
                                      content_type="application/json",
                                      headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 413 and api.json["code"] == "request.entity.too.large"
    oauth = fuzz_app.test_client().post("/oauth/token", data="x" * 100_000,
                                        content_type="application/x-www-form-urlencoded")
    assert oauth.status_code == 413 and oauth.json["error"] == "invalid_request"
    assert oauth.headers["Cache-Control"] == "no-store" and oauth.headers["Pragma"] == "no-cache"
