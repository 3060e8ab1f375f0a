"""Drive the target's web service with plain HTTP (requests), as a browser would.

Browser-facing URLs may differ from the suite's (compose: the browser uses localhost,
the suite idp/web): every redirect is re-based onto the URL the suite reaches.
"""
from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests

from gclogin_conformance.idp_driver import TIMEOUT, Idp, forms, login_form


def hidden_inputs(html: str, action_part: str) -> dict[str, str]:
    return next(f["hidden"] for f in forms(html) if action_part in f["action"])


def rebase(url: str, base: str) -> str:
    """url's path, query and fragment on base's scheme and host."""
    parts, onto = urlsplit(url), urlsplit(base)
    return urlunsplit((onto.scheme, onto.netloc, parts.path, parts.query, parts.fragment))


@dataclasses.dataclass
class Web:
    base_url: str
    idp: Idp

    def __post_init__(self) -> None:
        self.session = requests.Session()       # the browser's cookies for the web service
        self.session.headers["Origin"] = self.base_url.rstrip("/")  # as a browser's form POST
        self._callback: str | None = None

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(rebase(path, self.base_url), timeout=TIMEOUT, allow_redirects=False, **kw)

    def start_new_profile(self, name: str, grant: str, client_id: str, **extra) -> requests.Response:
        """Submit the new-profile form; the answer redirects to the IdP (browser grants)."""
        form = self.get("/profiles/new")
        fields = {**hidden_inputs(form.text, "/profiles/new"), "name": name,
                  "environment": _default_environment(form.text) or self.idp.base_url, "grant_type": grant, "client_id": client_id,
                  "redirect_port": "0", "overwrite": "y", **extra}
        return self.session.post(self.base_url + "/profiles/new", data=fields, timeout=TIMEOUT,
                                 allow_redirects=False)

    def callback_url(self) -> str:
        """The redirect URI the web service sends, learnt from a probe login (registers nothing):
        from its redirect, or, where the service checks the authorize request first and the
        IdP refuses the unknown client, from the refusal that names it."""
        if self._callback is None:
            answer = self.start_new_profile("conformance-probe", "3", "probe-client")
            named = _named_redirect_uri(answer.text)
            if named and not answer.headers.get("Location"):
                self._callback = named
            else:
                location = answer.headers.get("Location") or _link(answer.text)
                self._callback = parse_qs(urlsplit(location).query)["redirect_uri"][0]
        return self._callback

    def login_at_idp(self, authorize_url: str) -> requests.Response:
        """Fill in the IdP's login form (own cookie jar, like a separate origin); return its redirect."""
        session = requests.Session()
        page = session.get(rebase(authorize_url, self.idp.base_url), timeout=TIMEOUT, allow_redirects=False)
        assert page.status_code == 200, page.text[:300]
        form = login_form(page.text)
        fields = {**form["inputs"], "username": self.idp.user["username"], "password": self.idp.user["password"]}
        action = rebase(form["action"], self.idp.base_url) if "://" in form["action"] else \
            self.idp.base_url + (form["action"] or urlsplit(page.url).path + "?" + urlsplit(page.url).query)
        done = session.post(action, data=fields, timeout=TIMEOUT, allow_redirects=False)
        assert done.status_code in (302, 303), done.text[:300]
        return done

    def finish(self, idp_redirect: str) -> requests.Response:
        """What the browser does with the IdP's redirect to /callback (query or fragment)."""
        parts = urlsplit(idp_redirect)
        if parts.fragment:
            relay = self.get(parts.path)
            assert relay.status_code == 200
            return self.session.post(rebase(parts.path, self.base_url), data={"fragment": parts.fragment},
                                     timeout=TIMEOUT, allow_redirects=False)
        return self.get(urlunsplit(("", "", parts.path, parts.query, "")))


def _named_redirect_uri(html: str) -> str | None:
    """The redirect URI a refused login's message names (service.errors.REDIRECT_URI_SENT)."""
    import html as markup
    import re

    from service.errors import REDIRECT_URI_SENT

    match = re.search(re.escape(markup.escape(REDIRECT_URI_SENT, quote=True)) + r"\s+([^\s<]+)", html)
    return markup.unescape(match.group(1)) if match else None


def _link(html: str) -> str:
    import re

    match = re.search(r'href="([^"]*/oauth/authorize\?[^"]*)"', html)
    assert match, "no authorize redirect or link in the answer"
    return match.group(1).replace("&amp;", "&")


def _default_environment(html: str) -> str | None:
    """The form's default environment: the deployment's IdP as its users see it."""
    import re

    match = re.search(r'<input[^>]*name="environment"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None
