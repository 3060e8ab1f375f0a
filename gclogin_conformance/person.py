"""A person signing in at a login form that isn't the mock's, in headless chromium.

The redirect back to the client is caught by routing its origin, so nothing needs to
listen there; the captured URL is returned as a 302 response, like the HTTP person's.
"""
from __future__ import annotations

from urllib.parse import urlencode

import requests

from gclogin_conformance.browser import browser, origin, recorded_page
from gclogin_conformance.expect import CheckFailed


def browser_login(idp, user, username, password, params) -> requests.Response:
    url = idp.authorize_url + "?" + urlencode(params)
    target = origin(params.get("redirect_uri", "http://127.0.0.1:9"))
    caught: list[str] = []
    with browser() as instance, recorded_page(instance) as (page, _log):
        def catch(route):
            caught.append(route.request.url)
            route.fulfill(status=200, body="caught")

        page.route(target + "/**", catch)
        page.route(target, catch)
        page.goto(url)
        if not caught:
            page.fill(user.selectors["username"], username if username is not None else user.username)
            page.fill(user.selectors["password"], password if password is not None else user.password)
            page.click(user.selectors["submit"])
            try:
                page.wait_for_url(lambda u: u.startswith(target) or bool(caught), timeout=15_000)
            except Exception:
                if not caught:
                    raise CheckFailed("a redirect back to the client after signing in",
                                      f"the browser stayed at {page.url.split('?')[0]}") from None
    response = requests.Response()
    response.status_code = 302
    response.headers["Location"] = caught[0]
    response.request = requests.Request("POST", url).prepare()
    return response
