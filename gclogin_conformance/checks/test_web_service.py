"""Requirements checked against the target's web service (implicit and PKCE logins in a browser session)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from gclogin_conformance.web_driver import Web

GROUP = "web"


@pytest.fixture(scope="module")
def web_clients(idp, web_base):
    if not idp.spec.mock:
        pytest.skip("needs clients registered at the mock IdP")
    callback = Web(web_base, idp).callback_url()
    return {"callback": callback, "3": idp.create_client("CODE", [callback]),
            "2": idp.create_client("TOKEN", [callback])}


def _start(web: Web, clients, grant: str, name: str):
    answer = web.start_new_profile(name, grant, clients[grant]["id"])
    assert answer.status_code in (302, 303), answer.text[:300]
    authorize = answer.headers["Location"]
    return authorize, web.login_at_idp(authorize).headers["Location"]


@pytest.mark.parametrize("grant", ["2", "3"], ids=["implicit", "pkce"])
def test_R20_web_login_checks_state_exactly(web, web_clients, grant):
    """R20 — RFC 6749 §10.12: a callback whose state differs by one character is refused."""
    _, back = _start(web, web_clients, grant, f"r20-{grant}")
    state = parse_qs(urlsplit(back).query or urlsplit(back).fragment)["state"][0]
    forged = back.replace(f"state={state}", "state=" + state[:-1] + ("A" if state[-1] != "A" else "B"))
    refused = web.finish(forged)
    assert refused.status_code == 400
    assert web.get(f"/profiles/r20-{grant}").status_code == 404  # nothing saved


@pytest.mark.parametrize("grant", ["2", "3"], ids=["implicit", "pkce"])
def test_R21_web_callback_single_use(web, web_clients, grant):
    """R21 — RFC 9700 §4.2.4: the first callback completes the login; replaying it is refused."""
    _, back = _start(web, web_clients, grant, f"r21-{grant}")
    first = web.finish(back)
    assert first.status_code in (302, 303), first.text[:300]
    assert first.headers["Location"].endswith(f"/profiles/r21-{grant}")
    assert web.get(f"/profiles/r21-{grant}").status_code == 200
    assert web.finish(back).status_code == 400


def test_R5_web_callback_page_csp_nonce_no_referrer(web, web_clients):
    """R5 — RFC 6749 §3.1.2.5; RFC 9700 §4.2.4: the token-receiving page: nonce CSP, no-referrer, no third party."""
    page = web.get("/callback")
    csp = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "default-src 'none'" in csp and page.headers["Referrer-Policy"] == "no-referrer"
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=\s*\"(https?:)?//", page.text, re.I)
    assert all(f'nonce="{nonce}"' in tag for tag in re.findall(r"<(?:script|style)\b[^>]*>", page.text))


def test_R22_web_relay_posts_fragment_and_scrubs_history(web, web_clients):
    """R22 — the fragment goes as a same-origin POST body; history.replaceState runs first; no token in the query."""
    _, back = _start(web, web_clients, "2", "r22")
    parts = urlsplit(back)
    assert parts.fragment and "access_token=" not in parts.query
    page = web.get(parts.path)
    assert "history.replaceState" in page.text and re.search(r'<form[^>]*method="post"', page.text, re.I)
    done = web.finish(back)
    token = parse_qs(parts.fragment)["access_token"][0]
    assert done.status_code in (302, 303) and token not in done.headers["Location"]
    shown = web.get(done.headers["Location"])
    assert token not in shown.text


def test_R6_web_form_prefers_pkce_and_warns_about_implicit(web, web_base):
    """R6 — RFC 9700 §2.1.2: implicit is offered, PKCE is the default, a warning names the deprecation."""
    page = web.get("/profiles/new").text
    assert re.search(r'<option value="3"[^>]*selected', page)
    assert re.search(r'<option value="2"', page)
    assert "deprecated" in page.lower() and "PKCE" in page


def test_R25_web_pages_never_show_the_token(web, web_clients):
    """R25 — RFC 6749 §10.3: after a PKCE login no page or redirect shows the access token."""
    _, back = _start(web, web_clients, "3", "r25")
    done = web.finish(back)
    assert done.status_code in (302, 303)
    code = parse_qs(urlsplit(back).query)["code"][0]
    for path in ("/", "/profiles/r25", "/profiles/r25/me"):
        text = web.get(path).text
        assert code not in text
    me = web.get("/profiles/r25/me")
    assert me.status_code == 200 and web.idp.user["username"] in me.text


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_R27_web_login_next_never_leaves_the_site(web, web_clients, evil):
    """R27 — RFC 9700 §4.11.1: a `next` pointing elsewhere is replaced by a local path."""
    created = web.start_new_profile("r27", "3", web_clients["3"]["id"])
    web.finish(web.login_at_idp(created.headers["Location"]).headers["Location"])
    page = web.get("/profiles/r27")
    fields = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1), "next": evil}
    answer = web.session.post(web.base_url + "/profiles/r27/login", data=fields, timeout=15, allow_redirects=False)
    back = web.login_at_idp(answer.headers["Location"]).headers["Location"]
    done = web.finish(back)
    location = done.headers["Location"]
    assert urlsplit(location).netloc in ("", urlsplit(web.base_url).netloc)
    assert not location.startswith(("//", "/\\"))
