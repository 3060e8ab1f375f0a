"""Code Authorization: a CODE client with a secret is confidential. No PKCE needed at
authorize, the secret always at the token endpoint (PKCE or not), and single-use refresh tokens with
replay detection (RFC 9700 §4.14)."""
from __future__ import annotations

import pytest

from mock_idp import create_app
from mock_idp.models import REFRESH_LIFETIME
from mock_idp.testing import app_config

from .conftest import ALICE, CC, PKCE, REDIRECT, Login, bearer, pkce_pair, query

SECRET = "code-authorization-secret"
OTHER_SECRET = "other-code-secret"
SEED = f"""
[[users]]
id = "{ALICE.id}"
name = "{ALICE.name}"
email = "{ALICE.email}"
username = "{ALICE.username}"
password = "{ALICE.password}"

[[clients]]
id = "web-app"
secret = "{SECRET}"
name = "Server-side web app"
authorized_grant_type = "CODE"
registered_redirect_uri = ["{REDIRECT}"]

[[clients]]
id = "other-web-app"
secret = "{OTHER_SECRET}"
name = "Another web app"
authorized_grant_type = "CODE"
registered_redirect_uri = ["{REDIRECT}"]

[[clients]]
id = "public-pkce"
secret = ""
name = "Public PKCE"
authorized_grant_type = "CODE"
registered_redirect_uri = ["{REDIRECT}"]

[[clients]]
id = "{CC.id}"
secret = "{CC.secret}"
name = "cc"
authorized_grant_type = "CLIENT-CREDENTIALS"
"""


@pytest.fixture
def client(tmp_path, clock):
    seed = tmp_path / "seed.toml"
    seed.write_text(SEED, encoding="utf-8")
    return create_app(app_config(tmp_path, SEED=str(seed), CLOCK=clock)).test_client()


@pytest.fixture
def login(client) -> Login:
    return Login(client)


def code_for(login, client_id="web-app", **extra) -> str:
    response = login.run(response_type="code", client_id=client_id, redirect_uri=REDIRECT, **extra)
    assert response.status_code == 302, response.get_data(as_text=True)
    return query(response.headers["Location"])["code"]


def exchange(client, code, auth=("web-app", SECRET), **extra):
    return client.post("/oauth/token", auth=auth, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra})


def refresh(client, token, auth=("web-app", SECRET)):
    return client.post("/oauth/token", auth=auth,
                       data={"grant_type": "refresh_token", "refresh_token": token})


def test_authorize_without_pkce_then_basic_gives_a_refresh_token(client, login):
    response = exchange(client, code_for(login))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["token_type"] == "bearer" and body["access_token"] and body["refresh_token"]
    me = client.get("/api/v2/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json["id"] == ALICE.id


def test_client_secret_post_works_too(client, login):
    response = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code_for(login), "redirect_uri": REDIRECT,
        "client_id": "web-app", "client_secret": SECRET})
    assert response.status_code == 200 and response.json["refresh_token"]


def test_pkce_sent_by_a_confidential_client_is_still_checked(client, login):
    verifier, challenge = pkce_pair()
    code = code_for(login, code_challenge=challenge, code_challenge_method="S256")
    wrong = exchange(client, code, code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json["error"] == "invalid_grant"
    code = code_for(login, code_challenge=challenge, code_challenge_method="S256")
    assert exchange(client, code, code_verifier=verifier).status_code == 200
    plain = login.start(response_type="code", client_id="web-app", redirect_uri=REDIRECT,
                        code_challenge="x" * 43, code_challenge_method="plain")
    assert plain.status_code == 302 and query(plain.headers["Location"])["error"] == "invalid_request"


def test_pkce_without_the_secret_is_invalid_client_and_the_code_still_works(client, login):
    """RFC 6749 §3.2.1: a confidential client must authenticate; a right verifier alone
    does not, and the refusal does not use up the code."""
    verifier, challenge = pkce_pair()
    code = code_for(login, code_challenge=challenge, code_challenge_method="S256")
    response = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "web-app", "code_verifier": verifier})
    assert response.status_code == 400 and response.json["error"] == "invalid_client"
    assert "access_token" not in response.json
    assert "confidential" in response.json["error_description"]
    assert "must send its secret" in response.json["error_description"]
    with_secret = exchange(client, code, code_verifier=verifier)
    assert with_secret.status_code == 200 and with_secret.json["refresh_token"]


def test_public_code_clients_keep_pkce_required(client, login):
    page = login.start(response_type="code", client_id="public-pkce", redirect_uri=REDIRECT)
    assert page.status_code == 302
    assert "code_challenge" in query(page.headers["Location"])["error_description"]


@pytest.mark.parametrize("auth, status", [(("web-app", "wrong-secret"), 401), (None, 400)])
def test_a_wrong_or_missing_secret_is_invalid_client(client, login, auth, status):
    code = code_for(login)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if auth is None:
        data["client_id"] = "web-app"
    response = client.post("/oauth/token", data=data, auth=auth)
    assert response.status_code == status and response.json["error"] == "invalid_client"
    assert "secret" in response.json["error_description"]


def test_a_wrong_basic_secret_never_passes_as_a_public_client(client, login):
    verifier, challenge = pkce_pair()
    code = code_for(login, code_challenge=challenge, code_challenge_method="S256")
    response = exchange(client, code, auth=("web-app", "wrong"), client_id="web-app",
                        code_verifier=verifier)
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_refresh_rotates_and_a_reused_token_ends_the_whole_login(client, login):
    first = exchange(client, code_for(login)).json
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.json
    second = second.json
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"]
    assert client.get("/api/v2/users/me", headers=bearer(second["access_token"])).status_code == 200
    replay = refresh(client, first["refresh_token"])
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    # RFC 9700 §4.14: the replay revokes every token of that login, the newest included.
    for access in (first["access_token"], second["access_token"]):
        assert client.get("/api/v2/users/me", headers=bearer(access)).status_code == 401
    assert refresh(client, second["refresh_token"]).json["error"] == "invalid_grant"


def test_another_login_survives_a_replay(client, login):
    mine = exchange(client, code_for(login)).json
    other = exchange(client, code_for(login)).json
    refresh(client, mine["refresh_token"])
    refresh(client, mine["refresh_token"])  # replay: ends mine only
    assert client.get("/api/v2/users/me", headers=bearer(other["access_token"])).status_code == 200
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_a_refresh_token_of_another_client_is_refused_and_stays_usable(client, login):
    token = exchange(client, code_for(login)).json["refresh_token"]
    stolen = refresh(client, token, auth=("other-web-app", OTHER_SECRET))
    assert stolen.status_code == 400 and stolen.json["error"] == "invalid_grant"
    assert "another client" in stolen.json["error_description"]
    assert refresh(client, token).status_code == 200


def test_an_expired_refresh_token_is_invalid_grant(client, login, clock):
    token = exchange(client, code_for(login)).json["refresh_token"]
    clock.advance(REFRESH_LIFETIME)
    response = refresh(client, token)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"
    assert "expired" in response.json["error_description"]


def test_revoking_the_access_token_ends_its_refresh_token(client, login):
    body = exchange(client, code_for(login)).json
    assert client.delete("/api/v2/tokens/me", headers=bearer(body["access_token"])).status_code == 204
    assert refresh(client, body["refresh_token"]).json["error"] == "invalid_grant"


def test_no_refresh_token_for_client_credentials_or_public_pkce(client, login):
    cc = client.post("/oauth/token", auth=(CC.id, CC.secret), data={"grant_type": "client_credentials"})
    assert cc.status_code == 200 and "refresh_token" not in cc.json
    verifier, challenge = pkce_pair()
    code = code_for(login, client_id="public-pkce", code_challenge=challenge,
                    code_challenge_method="S256")
    public = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                               "redirect_uri": REDIRECT, "client_id": "public-pkce",
                                               "code_verifier": verifier})
    assert public.status_code == 200 and "refresh_token" not in public.json
    refused = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x",
                                                "client_id": "public-pkce"})
    assert refused.status_code in (400, 401) and refused.json["error"] in ("invalid_client", "unauthorized_client")


def test_the_demo_pkce_client_is_public(client):
    assert PKCE.secret == ""


def test_both_token_paths_answer_code_authorization_and_refresh_alike(client, login):
    """The fast path (plain form) and Flask's path (any other form content type) run the
    same checks and the same Authlib server (token_wsgi.py): same answers here too."""
    answers = []
    for content_type in ("application/x-www-form-urlencoded",
                         "application/x-www-form-urlencoded; charset=utf-8"):
        code = code_for(login)
        body = f"grant_type=authorization_code&code={code}&redirect_uri={REDIRECT}"
        first = client.post("/oauth/token", data=body, content_type=content_type, auth=("web-app", SECRET))
        again = client.post("/oauth/token", content_type=content_type, auth=("web-app", SECRET),
                            data=f"grant_type=refresh_token&refresh_token={first.json['refresh_token']}")
        replay = client.post("/oauth/token", content_type=content_type, auth=("web-app", SECRET),
                             data=f"grant_type=refresh_token&refresh_token={first.json['refresh_token']}")
        answers.append([(r.status_code, sorted(r.json), r.headers["Cache-Control"]) for r in (first, again, replay)])
        assert replay.json["error"] == "invalid_grant"
    assert answers[0] == answers[1]
