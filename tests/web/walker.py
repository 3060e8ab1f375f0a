"""A scripted browser for the web service: what a person does, over real HTTP with requests.

It follows the service to the IdP, fills in the IdP's login form, and does what the relay
page's script would do (POST the fragment back, same-origin). Every request has a timeout.
"""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import requests

TIMEOUT = 15

# The demo seed (mock_idp/seed.toml).
ALICE = ("alice@example.com", "alice-demo-password")
CC_CLIENT = ("6cdd66fc-2ce2-410e-87ee-4211c9fd3c45", "demo-client-credentials-secret")
IMPLICIT_CLIENT = "7dfdf66b-9fda-417c-ad6d-8b38f81f7e9d"
PKCE_CLIENT = "83077448-22f4-4b92-8051-44c69b08993c"
USER_CONTEXT_ERROR = ("This request requires a user context. Client credentials cannot be "
                      "used for requests to this resource.")


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no field {name} on the page"
    return unescape(match.group(1))


class Walker:
    def __init__(self, web_url: str) -> None:
        self.web = web_url.rstrip("/")
        self.http = requests.Session()

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(urljoin(self.web + "/", path.lstrip("/")), timeout=TIMEOUT, **kw)

    def post_form(self, path: str, data: dict, token_page: str = "/profiles/new") -> requests.Response:
        token = hidden(self.get(token_page).text, "csrf_token")
        return self.http.post(self.web + path, data={"csrf_token": token, **data},
                              allow_redirects=False, timeout=TIMEOUT, headers={"Origin": self.web})

    def new_profile(self, **fields) -> requests.Response:
        data = {"name": "DEFAULT", "redirect_port": "0"}
        data.update(fields)
        return self.post_form("/profiles/new", data)

    def login(self, name: str) -> requests.Response:
        return self.post_form(f"/profiles/{name}/login", {}, token_page=f"/profiles/{name}")

    def idp_sign_in(self, authorize_url: str, user: tuple[str, str] = ALICE) -> str:
        """Sign in on the IdP's page; returns where the IdP redirects the browser."""
        page = self.http.get(authorize_url, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        resp = self.http.post(urljoin(authorize_url, unescape(action)), timeout=TIMEOUT,
                              allow_redirects=False,
                              data={"request_id": hidden(page.text, "request_id"),
                                    "csrf_token": hidden(page.text, "csrf_token"),
                                    "username": user[0], "password": user[1]})
        assert resp.status_code in (302, 303), resp.text
        return resp.headers["Location"]

    def back_at_callback(self, location: str) -> requests.Response:
        """Arrive at the callback as a browser would; for a fragment, run the relay."""
        assert location.startswith(self.web + "/callback/"), location
        url, _, fragment = location.partition("#")
        page = self.http.get(url, timeout=TIMEOUT, allow_redirects=False)
        if not fragment:
            return page  # PKCE: the code in the query was handled by this GET
        assert page.status_code == 200 and "window.location.hash" in page.text
        action = re.search(r'<form id="relay" method="post" action="([^"]+)"', page.text).group(1)
        assert urlsplit(action).netloc in ("", urlsplit(self.web).netloc)  # same origin
        return self.http.post(urljoin(url, action), data={"fragment": fragment},
                              timeout=TIMEOUT, allow_redirects=False, headers={"Origin": self.web})

    def browser_login(self, start: requests.Response, user: tuple[str, str] = ALICE) -> requests.Response:
        """From the service's redirect to the IdP to the page after the callback."""
        assert start.status_code == 303, start.text
        return self.back_at_callback(self.idp_sign_in(start.headers["Location"], user))
