"""R26 building blocks: issuer ids for per-issuer web callbacks, and the CLI's mix-up rule."""
from __future__ import annotations

import re

from hypothesis import given, strategies as st

from service.environments import issuer_id
from service.mixup import mixup_conflict
from service.profiles import GrantType, Profile

hosts = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?){0,3}", fullmatch=True),
    st.sampled_from(["127.0.0.1", "localhost", "[::1]", "[fe80::1]", "login.mypurecloud.com"]))
ports = st.one_of(st.none(), st.integers(1, 65535))
schemes = st.sampled_from(["http", "https"])


def url(scheme: str, host: str, port: int | None) -> str:
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def effective(scheme: str, host: str, port: int | None) -> tuple[str, int]:
    return host.strip("[]").lower(), port or (443 if scheme == "https" else 80)


@given(schemes, hosts, ports, schemes, hosts, ports)
def test_two_issuers_never_share_an_id(s1, h1, p1, s2, h2, p2) -> None:
    if issuer_id(url(s1, h1, p1)) == issuer_id(url(s2, h2, p2)):
        assert effective(s1, h1, p1) == effective(s2, h2, p2)


@given(schemes, hosts, ports)
def test_issuer_id_is_one_path_segment_of_unreserved_characters(scheme, host, port) -> None:
    assert re.fullmatch(r"[a-z0-9.\-_~]+", issuer_id(url(scheme, host, port)))


def test_issuer_ids_read_as_the_host() -> None:
    assert issuer_id("https://login.mypurecloud.com") == "login.mypurecloud.com"
    assert issuer_id("http://127.0.0.1:8081") == "127.0.0.1_8081"
    assert issuer_id("http://localhost") == "localhost_80"
    assert issuer_id("https://localhost:8443") == "localhost_8443"
    assert issuer_id("http://[::1]:8081") == "~3a~3a1_8081"


def _p(name: str, env: str, grant: GrantType = GrantType.PKCE, client: str = "cid") -> Profile:
    return Profile(name=name, environment=env, grant_type=grant, client_id=client)


def test_a_genesys_client_id_at_a_base_url_is_a_conflict() -> None:
    prod = _p("prod", "mypurecloud.com")
    assert mixup_conflict(_p("evil", "http://127.0.0.1:9999"), [prod]) == prod
    assert mixup_conflict(_p("evil", "https://evil.example", GrantType.IMPLICIT), [prod]) == prod


def test_no_conflict_without_the_pattern() -> None:
    prod = _p("prod", "mypurecloud.com")
    assert mixup_conflict(_p("x", "http://127.0.0.1:9999", client="other"), [prod]) is None   # own client
    assert mixup_conflict(_p("x", "usw2.pure.cloud"), [prod]) is None                         # a domain
    assert mixup_conflict(_p("x", "http://127.0.0.1:9999", GrantType.CLIENT_CREDENTIALS), [prod]) is None
    assert mixup_conflict(_p("prod", "http://127.0.0.1:9999"), [prod]) is None               # itself
    assert mixup_conflict(_p("x", "http://127.0.0.1:9999"), [_p("mock", "http://127.0.0.1:8081")]) is None
