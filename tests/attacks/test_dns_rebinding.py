"""Point 1: DNS rebinding. A page on rebind.test, whose name now resolves to 127.0.0.1, must
neither read the web service (a CSRF token, the profile list) nor post to it."""
from __future__ import annotations

import re

import requests
from hypothesis import given, strategies as st

from devtools.servers import free_port, wsgi_server
from service.web.security import host_allowed, same_origin_post
from tests.web.conftest import make_app, write_config

PROFILE = '[DEFAULT]\nenvironment = "mypurecloud.com"\naccess_token = "victim-token"\n'
REBIND = "rebind.test:8080"


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_a_rebound_host_reads_nothing(tmp_path):
    app = make_app(tmp_path)
    write_config(app, PROFILE)
    client = app.test_client()
    for path in ("/profiles/new", "/", "/profiles/DEFAULT", "/profiles/DEFAULT/me"):
        resp = client.get(path, headers={"Host": REBIND})
        assert resp.status_code == 421, path
        page = resp.get_data(as_text=True)
        assert "csrf_token" not in page and "DEFAULT" not in page and "victim-token" not in page
    assert client.get("/healthz", headers={"Host": "127.0.0.1:8080"}).status_code == 200


def test_a_rebound_post_with_a_valid_csrf_token_changes_nothing(tmp_path):
    app = make_app(tmp_path)
    write_config(app, PROFILE)
    client = app.test_client()
    token = _token(client.get("/profiles/new").get_data(as_text=True))   # as if it had read one
    before = app.config["CONFIG_PATH"].read_bytes()
    form = {"csrf_token": token, "name": "DEFAULT", "environment": "mypurecloud.com",
            "grant_type": "0", "access_token": "attacker-token", "overwrite": "y"}
    assert client.post("/profiles/new", data=form, headers={"Host": REBIND,
                                                            "Origin": f"http://{REBIND}"}).status_code == 421
    # The right Host, but the form comes from another origin, or from no declared one.
    for headers in ({"Origin": f"http://{REBIND}"}, {"Origin": "null"}, {"Origin": ""},
                    {"Sec-Fetch-Site": "cross-site", "Origin": ""}):
        resp = client.post("/profiles/new", data=form, headers=headers)
        assert resp.status_code == 403, headers
    assert app.config["CONFIG_PATH"].read_bytes() == before
    # What a browser sends from the service's own page is accepted.
    ok = client.post("/profiles/new", data=form, headers={"Origin": "", "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code in (200, 303), ok.get_data(as_text=True)[:300]
    assert b"attacker-token" in app.config["CONFIG_PATH"].read_bytes()


def test_live_server_answers_to_loopback_on_its_bound_port_only(tmp_path):
    app = make_app(tmp_path, PUBLIC_URL="http://localhost:1")   # the public port differs
    with wsgi_server(app) as url:
        port = int(url.rsplit(":", 1)[1])
        other = free_port()
        assert requests.get(url + "/healthz", timeout=10).status_code == 200
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost:1"):
            assert requests.get(url + "/healthz", headers={"Host": host}, timeout=10).status_code == 200, host
        for host in (REBIND, f"rebind.test:{port}", f"127.0.0.1:{other}", f"127.0.0.2:{port}",
                     "localhost:1@evil", ""):
            assert requests.get(url + "/healthz", headers={"Host": host}, timeout=10).status_code in (400, 421), host


names = st.from_regex(r"[a-z0-9.-]{1,30}", fullmatch=True)


@given(names, st.integers(1, 65535))
def test_host_allowed_only_for_own_names(name, port):
    allowed = host_allowed(f"{name}:{port}", public_url="https://gclogin.example:8443", bound_port=8080)
    expected = (name == "gclogin.example" and port == 8443) or \
        (name in ("127.0.0.1", "localhost") and port in (8080, 8443))
    assert allowed == expected


def test_host_without_port_and_extra_names():
    assert host_allowed("gclogin.example", public_url="https://gclogin.example", bound_port=8080)
    assert not host_allowed("rebind.test", public_url="https://gclogin.example", bound_port=8080)
    assert host_allowed("[::1]:8080", public_url="https://gclogin.example", bound_port=8080)
    assert host_allowed("web:8080", public_url="http://localhost:1", bound_port=1,
                        extra=frozenset({"web:8080"}))


@given(st.text(max_size=40), st.sampled_from([None, "", "same-site", "cross-site", "none", "same-origin"]))
def test_same_origin_post_needs_our_origin_or_a_same_origin_fetch(origin, site):
    own = {"http://localhost:8080"}
    ok = same_origin_post(origin, site, own_origins=own)
    assert ok == (origin == "http://localhost:8080" or (site == "same-origin" and origin in (None, "", "null")))
