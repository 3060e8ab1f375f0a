"""The container test's pure helpers: pip index settings and the test seed."""
from __future__ import annotations

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.containers.stack import DEMO_SEED, http_urls, parse_pip_config, seed_with_callback

URLS = st.sampled_from(["http://mirror.example/simple", "https://pypi.example/simple",
                        "file:///opt/pypi/simple", "/opt/wheels", "file:///x"])


def test_pip_config_listing_parsed_per_key() -> None:
    listing = ("global.extra-index-url='file:///opt/pypi/simple https://m.example/simple'\n"
               ":env:.find-links='/opt/wheels'\nsite.index-url=\"https://i.example/simple\"\n"
               "not a setting\n")
    assert parse_pip_config(listing) == {
        "extra-index-url": ["file:///opt/pypi/simple https://m.example/simple"],
        "find-links": ["/opt/wheels"],
        "index-url": ["https://i.example/simple"],
    }


@given(st.lists(st.lists(URLS, max_size=3).map(" ".join), max_size=3))
def test_only_http_indexes_reach_the_build(values: list[str]) -> None:
    kept = http_urls(values)
    assert all(u.startswith(("http://", "https://")) for u in kept)
    assert len(kept) == sum(1 for v in values for u in v.split() if u.startswith("http"))


def test_demo_seed_registers_the_compose_default_callback() -> None:
    """`docker compose up` serves the web service at http://localhost:8080 and the IdP at
    http://localhost:8081 by default: the web's callback for that issuer is registered."""
    seed = tomllib.loads(DEMO_SEED.read_text(encoding="utf-8"))
    browser = [c for c in seed["clients"] if c["authorized_grant_type"] in ("TOKEN", "CODE")]
    assert browser and all("http://localhost:8080/callback/localhost_8081" in c["registered_redirect_uri"]
                           for c in browser)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1024, max_value=65535))
def test_test_seed_only_adds_the_callback_to_browser_clients(port: int) -> None:
    callback = f"http://127.0.0.1:{port}/callback"
    original = tomllib.loads(DEMO_SEED.read_text(encoding="utf-8"))
    text = seed_with_callback(DEMO_SEED.read_text(encoding="utf-8"), callback)
    changed = tomllib.loads(text)
    assert seed_with_callback(text, callback) == text            # idempotent
    assert changed["users"] == original["users"]
    for before, after in zip(original["clients"], changed["clients"], strict=True):
        uris = before["registered_redirect_uri"]
        expected = uris + ([callback] if uris and callback not in uris else [])
        assert after == {**before, "registered_redirect_uri": expected}
