"""Redirect-URI matching: exact by default (Genesys, R17), RFC 8252 §7.3 on request (R16, R17)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.redirect_uris import (
    accepts_any_port,
    is_loopback_ip_uri,
    is_valid_redirect_uri,
    loopback_port,
    loopback_redirect_uri,
    redirect_uri_allowed,
    registered_loopback_ports,
)

ports = st.integers(min_value=1, max_value=65535)
segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=8)
paths = st.lists(segment, max_size=3).map(lambda s: "".join("/" + p for p in s))
queries = st.one_of(st.just(""), segment.map(lambda s: "?q=" + s))
ip_hosts = st.sampled_from(["127.0.0.1", "[::1]"])
any_hosts = st.sampled_from(["127.0.0.1", "[::1]", "localhost", "example.com"])
schemes = st.sampled_from(["http", "https"])


@st.composite
def uris(draw, scheme=schemes, host=any_hosts):
    return f"{draw(scheme)}://{draw(host)}:{draw(ports)}{draw(paths)}{draw(queries)}"


@pytest.mark.parametrize("uri", [
    "http://localhost:8080", "https://localhost:8080", "http://127.0.0.1:8080/callback",
    "http://[::1]:9000/cb?x=1", "https://app.example.com/oauth",
    "http://localhost:8080/caf%C3%A9?a=b&c=d;e+f,g'(h)*!$~", "http://localhost:8080/a:b@c",
])
def test_valid_redirect_uris(uri):
    assert is_valid_redirect_uri(uri)


@pytest.mark.parametrize("uri", [
    "", "localhost:8080", "ftp://localhost:8080", "http://user@localhost:8080",
    "http://localhost:8080/#frag", "http://localhost:8080#", "http://localhost:0",
    "http://localhost:65536", "http://localhost:08080", "http://localhost:80a",
    "http://[::1", "http:///path", "http://local host:8080", "http://caf\u00e9.example",
    # not RFC 3986 characters (they would have to be percent-encoded)
    'http://localhost:8080/"x', "http://localhost:8080/a\\b", "http://localhost:8080/<x>",
    "http://localhost:8080/{x}", "http://localhost:8080/a|b", "http://localhost:8080/^",
    "http://localhost:8080/`", "http://localhost:8080/caf\u00e9", "http://localhost:8080/%zz",
    "http://localhost:8080/%4",
])
def test_invalid_redirect_uris(uri):
    assert not is_valid_redirect_uri(uri)
    assert not redirect_uri_allowed(uri, [uri], loopback_any_port=True)


@pytest.mark.parametrize("requested", [
    "http://localhost:8080/",      # trailing slash
    "http://LOCALHOST:8080",       # host case
    "HTTP://localhost:8080",       # scheme case
    "http://localhost:8081",       # port
    "https://localhost:8080",      # scheme
    "http://localhost",            # port missing
    "http://x@localhost:8080",     # userinfo
    "http://localhost:8080#x",     # fragment
])
def test_exact_match_rejects_near_misses(requested):
    assert not redirect_uri_allowed(requested, ["http://localhost:8080"], loopback_any_port=False)
    assert not redirect_uri_allowed(requested, ["http://localhost:8080"], loopback_any_port=True)


@given(uris())
def test_registered_uri_always_matches_itself(uri):
    for flag in (False, True):
        assert redirect_uri_allowed(uri, [uri], loopback_any_port=flag)
        assert redirect_uri_allowed(uri, ["https://other.example/x", uri], loopback_any_port=flag)


@given(ip_hosts, ports, ports, paths, queries)
def test_loopback_ip_any_port_only_when_enabled(host, registered_port, requested_port, path, query):
    registered = f"http://{host}:{registered_port}{path}{query}"
    requested = f"http://{host}:{requested_port}{path}{query}"
    assert redirect_uri_allowed(requested, [registered], loopback_any_port=True)
    exact = redirect_uri_allowed(requested, [registered], loopback_any_port=False)
    assert exact == (registered_port == requested_port)


@given(ports, ports, paths)
def test_localhost_and_https_never_get_any_port(p1, p2, path):
    for registered, requested in [(f"http://localhost:{p1}{path}", f"http://localhost:{p2}{path}"),
                                  (f"https://127.0.0.1:{p1}{path}", f"https://127.0.0.1:{p2}{path}")]:
        assert redirect_uri_allowed(requested, [registered], loopback_any_port=True) == (p1 == p2)


@given(ip_hosts, ports, ports, paths, segment)
def test_any_port_still_needs_same_path_and_query(host, p1, p2, path, extra):
    registered = f"http://{host}:{p1}{path}"
    assert not redirect_uri_allowed(f"http://{host}:{p2}{path}/{extra}", [registered],
                                    loopback_any_port=True)
    assert not redirect_uri_allowed(f"http://{host}:{p2}{path}?{extra}", [registered],
                                    loopback_any_port=True)
    other = "[::1]" if host == "127.0.0.1" else "127.0.0.1"
    assert not redirect_uri_allowed(f"http://{other}:{p2}{path}", [registered],
                                    loopback_any_port=True)


@given(uris(), st.sampled_from(["/", "#", "#f", "x"]))
def test_suffix_variants_never_match(uri, suffix):
    for flag in (False, True):
        assert not redirect_uri_allowed(uri + suffix, [uri], loopback_any_port=flag)


@given(uris(), st.text(alphabet="abc", min_size=1, max_size=5))
def test_userinfo_never_matches(uri, user):
    scheme, rest = uri.split("://", 1)
    with_user = f"{scheme}://{user}@{rest}"
    assert not redirect_uri_allowed(with_user, [with_user, uri], loopback_any_port=True)


@settings(max_examples=200)
@given(st.text(), st.lists(st.text(), max_size=3), st.booleans())
def test_never_raises(requested, registered, flag):
    assert isinstance(redirect_uri_allowed(requested, registered, loopback_any_port=flag), bool)
    assert isinstance(is_valid_redirect_uri(requested), bool)
    assert isinstance(is_loopback_ip_uri(requested), bool)
    assert loopback_port(requested) is None or 1 <= loopback_port(requested) <= 65535


@given(ports, st.booleans(), st.sampled_from(["localhost", "127.0.0.1", "[::1]"]), paths)
def test_loopback_redirect_uri_round_trip(port, secure, host, path):
    uri = loopback_redirect_uri(port, secure=secure, host=host, path=path)
    assert uri.startswith("https://" if secure else "http://")
    assert is_valid_redirect_uri(uri)
    assert loopback_port(uri) == port
    assert is_loopback_ip_uri(uri) == (host != "localhost" and not secure)


def test_loopback_redirect_uri_is_what_gc_prints():
    assert loopback_redirect_uri(8080) == "http://localhost:8080"
    assert loopback_redirect_uri(8443, secure=True) == "https://localhost:8443"


@pytest.mark.parametrize("kwargs, message", [
    ({"port": 0}, "port"), ({"port": 70000}, "port"), ({"port": True}, "port"),
    ({"port": 80, "host": "example.com"}, "host"), ({"port": 80, "path": "cb"}, "path"),
    ({"port": 80, "path": "/a#b"}, "path"),
])
def test_loopback_redirect_uri_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        loopback_redirect_uri(**kwargs)


def test_loopback_port_ignores_non_loopback():
    assert loopback_port("https://example.com:8080") is None
    assert loopback_port("http://localhost") is None
    assert loopback_port("http://[::1]:9000/cb") == 9000


# What Authlib may quote in an RFC 6749 §4.1.2.1 error_description: %x20-21 / %x23-5B / %x5D-7E.
ERROR_DESCRIPTION_CHARS = {chr(c) for c in range(0x20, 0x7F)} - {'"', "\\"}


@settings(max_examples=200)
@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\u00e9\u20ac"),
               max_size=12))
def test_valid_uris_fit_an_oauth_error_description(tail):
    """A registrable URI never holds a character the mock's OAuth errors cannot carry."""
    uri = "http://localhost:8080/" + tail
    if is_valid_redirect_uri(uri):
        assert set(uri) <= ERROR_DESCRIPTION_CHARS and " " not in uri


# --- the demo's opt-in: any port for http://localhost too (loopback_any_port="localhost") ----

@given(st.sampled_from(["localhost", "127.0.0.1", "[::1]"]), ports, ports, paths, queries)
def test_the_localhost_rule_accepts_any_port_on_every_loopback_name(host, p1, p2, path, query):
    registered, requested = f"http://{host}:{p1}{path}{query}", f"http://{host}:{p2}{path}{query}"
    assert redirect_uri_allowed(requested, [registered], loopback_any_port="localhost")


@given(st.text(max_size=60), st.lists(uris(), max_size=3))
def test_the_rules_only_widen_exact_matching(requested, registered):
    """exact ⊆ IP literals ⊆ IP literals and localhost: the opt-in never refuses what exact accepts."""
    exact = redirect_uri_allowed(requested, registered, loopback_any_port=False)
    ip = redirect_uri_allowed(requested, registered, loopback_any_port=True)
    named = redirect_uri_allowed(requested, registered, loopback_any_port="localhost")
    assert (not exact or ip) and (not ip or named)


@given(ports, ports, paths, st.sampled_from(["localhost", "127.0.0.1", "example.com"]))
def test_the_localhost_rule_never_widens_https_or_other_hosts(p1, p2, path, host):
    registered, requested = f"https://{host}:{p1}{path}", f"https://{host}:{p2}{path}"
    assert redirect_uri_allowed(requested, [registered], loopback_any_port="localhost") == (p1 == p2)
    assert redirect_uri_allowed(f"http://example.com:{p2}{path}", [f"http://example.com:{p1}{path}"],
                                loopback_any_port="localhost") == (p1 == p2)


@given(ports, ports, paths)
def test_the_localhost_rule_keeps_paths_exact(p1, p2, path):
    assert not redirect_uri_allowed(f"http://localhost:{p2}{path}/x", [f"http://localhost:{p1}{path}"],
                                    loopback_any_port="localhost")


def test_accepts_any_port_needs_the_rule_and_an_http_uri_on_the_host():
    registered = ["http://localhost:8080", "https://localhost:8443"]
    assert accepts_any_port(registered, "localhost")
    assert not accepts_any_port(registered, True) and not accepts_any_port(registered, False)
    assert not accepts_any_port(["https://localhost:8443"], "localhost")


def test_registered_loopback_ports_are_sorted_once_each_and_only_loopback():
    assert registered_loopback_ports(["http://localhost:8090", "https://localhost:8080", "http://127.0.0.1:8080",
                                      "https://app.example.com:9999/cb", "http://localhost"]) == (8080, 8090)
