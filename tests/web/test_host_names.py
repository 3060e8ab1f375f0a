"""One host name: pages are served under SERVICE_PUBLIC_URL's name only (cookies are per
name), and a login that comes back under the other loopback name is told so plainly."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, strategies as st

from service.web.security import canonical_location

from .conftest import IDP, make_app, write_config

NAMES = [("http://127.0.0.1:8080", "localhost:8080"), ("http://localhost:8080", "127.0.0.1:8080")]
PKCE = f'[web]\ngrant_type = "3"\nclient_credentials = "cid"\nenvironment = "{IDP}"\n'


@pytest.mark.parametrize("public, other", NAMES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_page_under_the_other_loopback_name_redirects_to_the_public_url(tmp_path, public, other, method):
    client = make_app(tmp_path, PUBLIC_URL=public).test_client()
    resp = client.open("/profiles/new?x=1", method=method, headers={"Host": other})
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"{public}/profiles/new?x=1"
    assert client.open("/profiles/new", method=method).status_code == 200  # the public name


@pytest.mark.parametrize("public, other", NAMES)
def test_posts_probes_and_foreign_hosts_are_not_redirected(tmp_path, public, other):
    client = make_app(tmp_path, PUBLIC_URL=public).test_client()
    assert client.get("/healthz", headers={"Host": other}).status_code == 200   # compose probes 127.0.0.1
    assert client.get("/", headers={"Host": "rebind.test:8080"}).status_code == 421
    post = client.post("/profiles/new", headers={"Host": other, "Origin": f"http://{other}"})
    assert post.status_code == 400 and "CSRF" in post.get_data(as_text=True)  # checked, not redirected


@pytest.mark.parametrize("public, other", NAMES)
def test_a_login_that_comes_back_under_the_other_name_says_so(tmp_path, public, other):
    app = make_app(tmp_path, PUBLIC_URL=public, AUTHORIZE_PREFLIGHT=False)  # no IdP runs here
    write_config(app, PKCE)
    client = app.test_client()
    started = f"http://{other}"
    # A tab opened at the other name before (its form, its session cookie): the login starts there.
    with client.session_transaction(base_url=started) as sess:
        sess["csrf"] = "t" * 43
    start = client.post("/profiles/web/login", base_url=started, data={"csrf_token": "t" * 43},
                        headers={"Origin": started})
    assert start.status_code == 303, start.get_data(as_text=True)[:300]
    request = parse_qs(urlsplit(start.headers["Location"]).query)
    state, callback = request["state"][0], urlsplit(request["redirect_uri"][0]).path
    # The IdP sends the browser to the registered redirect URI, under the public name.
    resp = client.get(f"{callback}?code=abc&state={state}")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "possible CSRF" not in page
    assert re.search(rf"started at <code>{re.escape(started)}</code>", page)
    assert f"came back\nto <code>{public}</code>" in page
    assert f'href="{public}/"' in page


def test_a_callback_with_a_wrong_state_in_its_own_session_is_still_refused(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    resp = client.get("/callback/127.0.0.1_9?code=abc&state=never-issued")  # conftest's IDP
    assert resp.status_code == 400 and "another address" not in resp.get_data(as_text=True)


@given(host=st.sampled_from(["localhost", "127.0.0.1", "[::1]", "localhost:1", "evil.test", "", "a@b"]),
       target=st.text(max_size=40))
def test_canonical_location_only_ever_leads_to_the_public_url(host, target):
    public = "http://localhost:8080"
    found = canonical_location(host, target, public_url=public)
    if found is not None:
        assert found.startswith(public + "/") and not found.startswith(public + "//")
        assert host in ("127.0.0.1", "[::1]")


def test_another_port_is_not_the_public_listener():
    """A server bound elsewhere than its public URL's port (no SERVICE_PUBLIC_URL given)
    would send browsers to a port nobody serves: it serves the page instead."""
    assert canonical_location("127.0.0.1:9999", "/", public_url="http://localhost:8080") is None
    assert canonical_location("127.0.0.1:8080", "/", public_url="http://localhost:8080") == "http://localhost:8080/"
