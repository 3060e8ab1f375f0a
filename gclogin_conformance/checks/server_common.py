"""Helpers the server checks share: clients to use, PKCE pairs, redirect parsing."""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, quote_plus, urlsplit

import requests

from gclogin_conformance.expect import CheckFailed, describe, excerpt, expect, expect_redirect
from gclogin_conformance.idp_driver import TIMEOUT

PORT = 47123                      # registered for created clients; nothing listens (redirects are never followed)
REDIRECT = f"http://127.0.0.1:{PORT}"


def verifier_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def fragment(response: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers.get("Location", "")).fragment).items()}


def query(response: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers.get("Location", "")).query).items()}


def json_of(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed("a JSON body", "the server answered " + describe(response), excerpt(response)) from None
    if not isinstance(body, dict):
        raise CheckFailed("a JSON object", f"a JSON {type(body).__name__}", excerpt(response))
    return body


def pkce_code(idp, client: dict, redirect: str | None = None) -> tuple[str, str]:
    """Sign in with a PKCE client; returns (code, verifier)."""
    redirect = redirect or client["redirect_uri"]
    verifier, challenge = verifier_pair()
    state = secrets.token_urlsafe(32)
    done = idp.login(response_type="code", client_id=client["id"], redirect_uri=redirect, state=state,
                     code_challenge=challenge, code_challenge_method="S256")
    expect_redirect(done, "back to the client with ?code= after signing in")
    got = query(done)
    expect("code" in got, "a code in the redirect's query", f"the query has {sorted(got) or 'nothing'}",
           response=done)
    return got["code"], verifier


def exchange(idp, client: dict, code: str, verifier: str, redirect: str | None = None,
             client_id: str | None = None) -> requests.Response:
    """Redeem a code with its verifier. A client with a secret is confidential and sends it
    (HTTP Basic, each part form-urlencoded: RFC 6749 §2.3.1, §3.2.1); a public one, or a
    request naming another client_id, sends client_id alone."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect or client["redirect_uri"],
            "code_verifier": verifier, "client_id": client_id or client["id"]}
    headers = {}
    if client.get("secret") and client_id is None:
        raw = f"{quote_plus(client['id'])}:{quote_plus(client['secret'])}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    return requests.post(idp.token_url, timeout=TIMEOUT, data=data, headers=headers)


def browser_clients(idp) -> dict[str, dict]:
    """The implicit and PKCE clients: the ones given, else registered through the admin API."""
    out: dict[str, dict] = {}
    for grant, given in (("TOKEN", idp.spec.implicit_client), ("CODE", idp.spec.pkce_client)):
        if given is not None:
            out[grant] = {"id": given.id, "redirect_uri": given.redirect_uri}
        elif idp.spec.admin is not None:
            created = idp.create_client(grant, [REDIRECT, f"http://localhost:{PORT}"])
            out[grant] = {**created, "redirect_uri": REDIRECT}
    return out


def need(clients: dict, grant: str) -> dict:
    import pytest

    if grant not in clients:
        what = {"TOKEN": "[implicit] id and redirect_uri", "CODE": "[pkce] id and redirect_uri"}[grant]
        pytest.skip(f"no {'implicit' if grant == 'TOKEN' else 'PKCE'} client: give {what} in --credentials")
    return clients[grant]


__all__ = ["PORT", "REDIRECT", "browser_clients", "exchange", "expect", "fragment", "json_of", "need",
           "pkce_code", "query", "verifier_pair"]
