"""A scripted stand-in for the user's browser at the mock IdP's login page."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests

from mock_idp.testing import demo_seed, parse_login_form

TIMEOUT = 15.0


def demo_user():
    return demo_seed().users[0]


def sign_in(authorize_url: str, session: requests.Session | None = None) -> str:
    """Open the authorize URL, submit the demo user's credentials; returns the redirect."""
    session = session or requests.Session()
    user = demo_user()
    page = session.get(authorize_url, timeout=TIMEOUT, allow_redirects=False)
    assert page.status_code == 200, f"authorize page: {page.status_code} {page.text[:300]}"
    form = parse_login_form(page.text)
    fields = {**form.fields, "username": user.username, "password": user.password}
    action = urljoin(authorize_url, form.action or urlsplit(authorize_url).path)
    done = session.post(action, data=fields, timeout=TIMEOUT, allow_redirects=False)
    assert done.status_code in (302, 303), f"login form: {done.status_code} {done.text[:300]}"
    return done.headers["Location"]
