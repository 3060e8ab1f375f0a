"""CORS on the endpoints browser apps call (token, /api/v2), never on the sign-in pages;
GET /logout as Genesys's JS SDK navigates to it."""
from __future__ import annotations

import pytest

from mock_idp import ConfigError, create_app
from mock_idp.config import cors_origins
from mock_idp.testing import app_config

from .conftest import BOB, CC, IMPLICIT, REDIRECT, bearer, implicit_params

SPA = "http://127.0.0.1:5173"


def preflight(client, path, origin=SPA, method="POST", headers="authorization,content-type"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": headers})


@pytest.mark.parametrize("path, method", [("/oauth/token", "POST"), ("/api/v2/tokens/me", "GET"),
                                          ("/api/v2/tokens/me", "DELETE"), ("/api/v2/users/me", "GET")])
def test_preflights_are_answered_for_any_origin_by_default(client, path, method):
    response = preflight(client, path, method=method)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed and "genesys-app" in allowed
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_actual_answers_carry_the_origin_header_on_both_token_paths(client):
    form = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       auth=(CC.id, CC.secret), headers={"Origin": SPA})  # the fast path
    flask = client.post("/oauth/token", data="grant_type=client_credentials",  # Flask's path
                        content_type="application/x-www-form-urlencoded; charset=utf-8",
                        auth=(CC.id, CC.secret), headers={"Origin": SPA})
    for response in (form, flask):
        assert response.status_code == 200, response.json
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    api = client.get("/api/v2/tokens/me", headers={**bearer(form.json["access_token"]), "Origin": SPA})
    assert api.headers["Access-Control-Allow-Origin"] == "*"
    assert "ININ-Correlation-Id" in api.headers["Access-Control-Expose-Headers"]


def test_sign_in_pages_are_not_cors_and_stay_unframable(client):
    page = client.get("/oauth/authorize", query_string=implicit_params(), headers={"Origin": SPA})
    assert page.status_code == 200 and "Access-Control-Allow-Origin" not in page.headers
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert preflight(client, "/oauth/authorize", method="GET").headers.get("Access-Control-Allow-Origin") is None


def test_listed_origins_only_and_a_disallowed_preflight_is_a_clear_403(tmp_path):
    client = create_app(app_config(tmp_path, CORS_ORIGINS=f"{SPA}, https://app.example")).test_client()
    ok = preflight(client, "/oauth/token")
    assert ok.status_code == 204 and ok.headers["Access-Control-Allow-Origin"] == SPA
    assert ok.headers["Vary"] == "Origin"
    refused = preflight(client, "/oauth/token", origin="http://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert refused.json["error"] == "invalid_request"
    assert "http://evil.example" in refused.json["error_description"]
    api = preflight(client, "/api/v2/users/me", origin="http://evil.example", method="GET")
    assert api.status_code == 403 and "MOCK_IDP_CORS_ORIGINS" in api.json["message"]
    actual = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(CC.id, CC.secret), headers={"Origin": "http://evil.example"})
    assert actual.status_code == 200 and "Access-Control-Allow-Origin" not in actual.headers


def test_a_method_the_endpoint_does_not_take_is_refused_in_the_preflight(client):
    response = preflight(client, "/oauth/token", method="DELETE")
    assert response.status_code == 403 and "accepts POST" in response.json["error_description"]


@pytest.mark.parametrize("value", ["http://a.example/", "a.example", "http://a.example/path", "*,x"])
def test_bad_cors_origins_setting_names_the_variable(value):
    with pytest.raises(ConfigError, match="MOCK_IDP_CORS_ORIGINS"):
        cors_origins(value)


def test_cors_origins_any():
    assert cors_origins("*") is None and cors_origins(None) is None
    assert cors_origins("http://a:1,https://b") == frozenset({"http://a:1", "https://b"})


def test_logout_redirects_to_a_registered_uri_and_clears_the_login_cookie(client, login):
    login.start(**implicit_params())  # sets the form's binding cookie
    response = client.get("/logout", query_string={"client_id": IMPLICIT.id, "redirect_uri": REDIRECT})
    assert response.status_code == 302 and response.headers["Location"] == REDIRECT
    cleared = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("mock_idp_login=")]
    assert cleared and "Max-Age=0" in cleared[0] and "Path=/oauth/authorize" in cleared[0]
    again = login.start(**implicit_params())
    assert again.status_code == 200 and 'id="password"' in again.get_data(as_text=True)
    assert login.submit(again, BOB.username, BOB.password).status_code == 302


def test_logout_without_a_redirect_shows_a_signed_out_page(client):
    response = client.get("/logout", query_string={"client_id": IMPLICIT.id})
    assert response.status_code == 200 and 'id="signed-out"' in response.get_data(as_text=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("query, problem", [
    ({"client_id": IMPLICIT.id, "redirect_uri": "https://evil.example/"}, "not registered"),
    ({"redirect_uri": REDIRECT}, "client_id"),
    ({"client_id": "no-such-client", "redirect_uri": REDIRECT}, "Unknown client"),
    ({"client_id": CC.id, "redirect_uri": REDIRECT}, "not registered"),
])
def test_logout_never_redirects_to_an_unregistered_uri(client, query, problem):
    response = client.get("/logout", query_string=query)
    assert response.status_code == 400 and "Location" not in response.headers
    assert problem in response.get_data(as_text=True)
