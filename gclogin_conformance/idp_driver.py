"""Drive the target's authorization server over HTTP: tokens, the admin API, the login form.

The "person" signing in is plain HTTP by default: the login form is parsed with
html.parser and posted with requests (which also works inside compose, where the
browser-facing URLs differ). When the credentials give CSS selectors for a login form
that isn't the mock's, headless chromium fills it in (gclogin_conformance.person).
A server that redirects straight back without asking (oauth2-mock-server) needs no form.
"""
from __future__ import annotations

import dataclasses
import tomllib
import uuid
from html.parser import HTMLParser
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import requests

from gclogin_conformance.expect import CheckFailed, describe, excerpt
from gclogin_conformance.targets import Client, ServerSpec

TIMEOUT = 15
#: the key under which this project's mock takes (and gives) what Genesys's JSON lacks
MOCK_EXTENSION = "mockIdp"


def default_seed() -> dict:
    import mock_idp

    return tomllib.loads((Path(mock_idp.__file__).parent / "seed.toml").read_text(encoding="utf-8"))


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                               "inputs": {}, "hidden": {}})
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            if tag == "button" or attrs.get("type") in ("hidden", "text", "email", "password", None):
                self.forms[-1]["inputs"].setdefault(attrs["name"], attrs.get("value") or "")
            if tag == "input" and attrs.get("type") == "hidden":
                self.forms[-1]["hidden"][attrs["name"]] = attrs.get("value") or ""


def forms(html: str) -> list[dict]:
    """Every form: action, method, default inputs (first value wins) and hidden inputs (last wins)."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def login_form(html: str) -> dict:
    """The first form with a password field: action, method and its default inputs."""
    for form in forms(html):
        if "password" in form["inputs"]:
            return form
    raise CheckFailed("a login form with a password field", "the page has none")


@dataclasses.dataclass
class Idp:
    """The target's authorization server and API, and the credentials the run was given."""

    spec: ServerSpec

    @property
    def base_url(self) -> str:
        return self.spec.login_url

    @property
    def api_url(self) -> str:
        return self.spec.api_url

    @property
    def token_url(self) -> str:
        return self.spec.login_url + self.spec.token_path

    @property
    def authorize_url(self) -> str:
        return self.spec.login_url + self.spec.authorize_path

    @property
    def admin_client(self) -> dict:
        """The client-credentials client, as {"id", "secret"}."""
        client = self.spec.cc_client
        assert client is not None
        return {"id": client.id, "secret": client.secret}

    @property
    def user(self) -> dict:
        assert self.spec.user is not None
        return {"username": self.spec.user.username, "password": self.spec.user.password}

    def token(self, client_id: str, secret: str, **form) -> requests.Response:
        return requests.post(self.token_url, data={"grant_type": "client_credentials", **form},
                             auth=(client_id, secret), timeout=TIMEOUT)

    def cc_token(self, client: dict | None = None) -> str:
        client = client or self.admin_client
        response = self.token(client["id"], client["secret"])
        if response.status_code != 200 or "access_token" not in response.text:
            raise CheckFailed("a client-credentials token for the configured client",
                              "the token endpoint answered " + describe(response), excerpt(response))
        return response.json()["access_token"]

    def api(self, method: str, path: str, token: str | None, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, self.api_url + path, headers=headers, timeout=TIMEOUT, **kw)

    def create_client(self, grant: str, redirect_uris: Sequence[str] = (), validity: int | None = None,
                      roles: list[str] | None = None, public: bool = True) -> dict:
        """Add a client through the admin API, as an org admin would (Admin → OAuth).

        Genesys gives every such client a secret, so a CODE client is confidential and
        must send it at the token endpoint. A public PKCE client (no secret), which the
        browser checks need, is the mock's extension: asked for only when the target is
        this project's mock and `public`; another server gets a Genesys-shaped body, and
        its answer (a secret or not) tells the checks which kind of client they have.
        """
        admin = self.spec.admin
        if admin is None:
            raise CheckFailed("admin credentials to register a client", "none were given")
        body: dict[str, Any] = {"name": f"conformance-{uuid.uuid4().hex[:8]}", "authorizedGrantType": grant,
                "registeredRedirectUri": list(redirect_uris)}
        if grant == "CODE" and public and self.spec.mock:
            body[MOCK_EXTENSION] = {"publicClient": True}
        if validity is not None:
            body["accessTokenValiditySeconds"] = validity
        if roles:
            body["roleIds"] = roles
        response = self.api("POST", "/api/v2/oauth/clients", self.cc_token({"id": admin.id, "secret": admin.secret}),
                            json=body)
        if response.status_code not in (200, 201):
            raise CheckFailed("the admin API to register a client (POST /api/v2/oauth/clients → 200/201)",
                              "it answered " + describe(response), excerpt(response))
        return response.json()

    def authorize(self, session: requests.Session | None = None, **params) -> requests.Response:
        session = session or requests.Session()
        return session.get(self.authorize_url + "?" + urlencode(params), timeout=TIMEOUT, allow_redirects=False)

    def login(self, username: str | None = None, password: str | None = None, **params) -> requests.Response:
        """GET the authorize URL, sign in, and return the response that redirects back.

        A server that redirects at once (no login page) returns that redirect.
        """
        user = self.spec.user
        if user is not None and user.selectors:
            from gclogin_conformance.person import browser_login

            return browser_login(self, user, username, password, params)
        session = requests.Session()
        page = self.authorize(session, **params)
        if page.status_code in (302, 303):
            return page
        if page.status_code != 200:
            raise CheckFailed("the authorization endpoint to show a sign-in page (200)",
                              "it answered " + describe(page), excerpt(page))
        form = login_form(page.text)
        fields = dict(form["inputs"])
        user_field = next((n for n in fields if n in ("username", "email", "login")), "username")
        fields[user_field] = username if username is not None else self.user["username"]
        fields["password"] = password if password is not None else self.user["password"]
        action = urljoin(page.url, form["action"] or page.url)
        return session.request(form["method"].upper(), action, data=fields, timeout=TIMEOUT,
                               allow_redirects=False)


def client_dict(client: Client) -> dict:
    return {"id": client.id, "secret": client.secret, "redirect_uri": client.redirect_uri}
