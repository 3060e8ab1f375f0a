"""No secret, token, code or password reaches the server's logs (R25)."""
from __future__ import annotations

import logging

from .conftest import ALICE, CC, PKCE, REDIRECT, bearer, code_params, implicit_params, pkce_pair, query, fragment


def test_flows_log_no_secrets(app, client, login, caplog):
    caplog.set_level(logging.DEBUG)
    secrets_seen = [CC.secret, ALICE.password]
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(CC.id, CC.secret)).json["access_token"]
    client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(CC.id, "bad"))
    implicit = fragment(login.run(**implicit_params()).headers["Location"])["access_token"]
    login.submit(login.start(**implicit_params()), password="wrong-" + ALICE.password)
    verifier, challenge = pkce_pair()
    code = query(login.run(**code_params(challenge)).headers["Location"])["code"]
    coded = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": PKCE.id, "code_verifier": verifier}).json["access_token"]
    client.delete("/api/v2/tokens/me", headers=bearer(token))
    client.get("/api/v2/users/me", headers=bearer(token))
    secrets_seen += [token, implicit, code, coded, verifier]
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in secrets_seen:
        assert secret not in logged
