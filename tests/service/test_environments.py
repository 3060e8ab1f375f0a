"""Environments: region → domain → URLs; plain http only for loopback or --insecure (R11)."""
import pytest

from service.environments import REGIONS, is_loopback_host, normalize_environment, resolve
from service.errors import InvalidValueError


@pytest.mark.parametrize("region, domain", sorted(REGIONS.items()))
def test_every_region_maps_to_its_domain(region, domain):
    ep = resolve(region)
    assert ep.login_url == f"https://login.{domain}"
    assert ep.api_url == f"https://api.{domain}"
    assert ep.token_url == f"https://login.{domain}/oauth/token"


def test_domain_and_default():
    assert resolve("mypurecloud.ie").api("/api/v2/users/me") == "https://api.mypurecloud.ie/api/v2/users/me"
    assert resolve("").login_url == "https://login.mypurecloud.com"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081", "http://localhost:8081/", "http://[::1]:9"])
def test_http_base_url_allowed_on_loopback(url):
    ep = resolve(url)
    assert ep.login_url == ep.api_url == url.rstrip("/")
    assert ep.authorize_url == url.rstrip("/") + "/oauth/authorize"


def test_http_to_remote_host_needs_insecure():
    with pytest.raises(InvalidValueError, match="environment.*--insecure"):
        resolve("http://idp:8081")
    assert resolve("http://idp:8081", insecure=True).login_url == "http://idp:8081"
    assert resolve("https://idp.example:8443").login_url == "https://idp.example:8443"


@pytest.mark.parametrize("value, message", [
    ("us-east-9", "unknown region 'us-east-9'"),
    ("not a domain", "'not a domain'"),
    ("ftp://x.example", "neither a Genesys domain"),
    ("https://x.example/path", "no path"),
    ("https://user:pw@x.example", "credentials"),
    ("http://127.0.0.1:99999", "not a valid base URL"),
])
def test_bad_environment_names_key_and_value(value, message):
    with pytest.raises(InvalidValueError) as info:
        normalize_environment(value)
    assert info.value.key == "environment"
    assert message in str(info.value)


def test_loopback_hosts():
    assert all(map(is_loopback_host, ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"]))
    assert not any(map(is_loopback_host, ["example.com", "10.0.0.1", "localhost.example.com"]))


@pytest.mark.parametrize(("url", "expected"), [
    ("https://login.mypurecloud.com/oauth/token?x=1", "https://login.mypurecloud.com"),
    ("http://127.0.0.1:8081/", "http://127.0.0.1:8081"),
    ("", ""), (None, ""), ("not a url", ""), ("/local/path", ""),
])
def test_origin_is_scheme_and_host_or_nothing(url, expected):
    from service.environments import origin

    assert origin(url) == expected
