"""Drive the target's IdP over plain HTTP: seed data, the admin API, and the login form.

No browser: the login form is parsed with html.parser and posted with requests, which is
also how the suite runs inside compose (where the browser-facing URLs differ).
"""
from __future__ import annotations

import dataclasses
import tomllib
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin

import requests

TIMEOUT = 15


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
    raise AssertionError("the page has no login form with a password field")


@dataclasses.dataclass
class Idp:
    """The target's IdP: login (authorize, token) and API base URLs; seed is None for a real org."""

    base_url: str
    api_url: str
    seed: dict | None
    cc_client: dict | None = None
    implicit_client_id: str | None = None

    @property
    def admin_client(self) -> dict:
        """A client-credentials client (the seed's admin one for the mock)."""
        if self.seed is None:
            return self.cc_client
        return next(c for c in self.seed["clients"] if "admin" in c.get("roles", []))

    def seed_client(self, grant: str) -> dict:
        return next(c for c in self.seed["clients"] if c["authorized_grant_type"] == grant)

    @property
    def user(self) -> dict:
        return self.seed["users"][0]

    def token(self, client_id: str, secret: str, **form) -> requests.Response:
        return requests.post(self.base_url + "/oauth/token", data={"grant_type": "client_credentials", **form},
                             auth=(client_id, secret), timeout=TIMEOUT)

    def cc_token(self, client: dict | None = None) -> str:
        client = client or self.admin_client
        response = self.token(client["id"], client["secret"])
        response.raise_for_status()
        return response.json()["access_token"]

    def api(self, method: str, path: str, token: str | None, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, self.api_url + path, headers=headers, timeout=TIMEOUT, **kw)

    def create_client(self, grant: str, redirect_uris: list[str] = (), validity: int | None = None,
                      roles: list[str] | None = None) -> dict:
        """Add a client through the admin API, as an org admin would (Admin → OAuth)."""
        body = {"name": f"conformance-{uuid.uuid4().hex[:8]}", "authorizedGrantType": grant,
                "registeredRedirectUri": list(redirect_uris)}
        if validity is not None:
            body["accessTokenValiditySeconds"] = validity
        if roles:
            body["roleIds"] = roles
        response = self.api("POST", "/api/v2/oauth/clients", self.cc_token(), json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def authorize(self, session: requests.Session | None = None, **params) -> requests.Response:
        session = session or requests.Session()
        return session.get(self.base_url + "/oauth/authorize?" + urlencode(params), timeout=TIMEOUT,
                           allow_redirects=False)

    def login(self, username: str | None = None, password: str | None = None, **params) -> requests.Response:
        """GET /oauth/authorize, fill in the login form, return the response to the POST."""
        session = requests.Session()
        page = self.authorize(session, **params)
        assert page.status_code == 200, f"authorize answered {page.status_code}: {page.text[:300]}"
        form = login_form(page.text)
        fields = dict(form["inputs"])
        user_field = next((n for n in fields if n in ("username", "email", "login")), "username")
        fields[user_field] = username if username is not None else self.user["username"]
        fields["password"] = password if password is not None else self.user["password"]
        action = urljoin(page.url, form["action"] or page.url)
        return session.request(form["method"].upper(), action, data=fields, timeout=TIMEOUT,
                               allow_redirects=False)
