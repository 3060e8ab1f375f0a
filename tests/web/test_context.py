"""Where an environment is reached from (browser vs server), and the pending-login store."""
from __future__ import annotations

import stat
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.environments import REGIONS
from service.errors import InvalidValueError
from service.web.context import routes_for
from service.web.pending import PendingLogins

COMPOSE = {"idp_url": "http://idp:8081", "idp_public_url": "http://localhost:8081"}


def test_compose_split_browser_and_server_urls():
    routes = routes_for("http://localhost:8081/", **COMPOSE)
    assert routes.browser.authorize_url == "http://localhost:8081/oauth/authorize"
    assert routes.server.token_url == "http://idp:8081/oauth/token"
    assert routes.server.api("/api/v2/users/me") == "http://idp:8081/api/v2/users/me"


def test_the_internal_name_also_maps_to_the_public_one_for_the_browser():
    routes = routes_for("http://idp:8081", **COMPOSE)
    assert routes.browser.login_url == "http://localhost:8081"


@given(st.sampled_from(sorted(REGIONS)))
def test_a_real_org_ignores_the_mock_settings(region):
    routes = routes_for(REGIONS[region], **COMPOSE)
    assert routes.browser == routes.server
    assert routes.server.login_url == f"https://login.{REGIONS[region]}"
    assert routes.server.api_url == f"https://api.{REGIONS[region]}"


def test_plain_http_elsewhere_is_refused_unless_it_is_the_configured_idp():
    with pytest.raises(InvalidValueError, match="plain http"):
        routes_for("http://other.example:8081", **COMPOSE)


@settings(max_examples=60)
@given(st.text(max_size=40))
def test_routes_for_raises_only_the_documented_error(environment):
    try:
        routes = routes_for(environment, **COMPOSE)
    except InvalidValueError:
        return
    assert routes.browser.environment == routes.server.environment


def test_pending_login_is_single_use_and_private(tmp_path):
    store = PendingLogins(tmp_path / "state" / "pending.sqlite3", ttl=60)
    opaque = store.put({"state": "s", "code_verifier": "v" * 43})
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert opaque not in store.path.read_bytes().decode("latin-1")  # only a hash is stored
    assert store.peek(opaque)["state"] == "s"
    assert store.take(opaque)["code_verifier"] == "v" * 43
    assert store.take(opaque) is None and store.peek(opaque) is None


def test_pending_login_taken_concurrently_is_used_once(tmp_path):
    store = PendingLogins(tmp_path / "p.sqlite3", ttl=60)
    opaque = store.put({"state": "s"})
    got: list[object] = []
    barrier = threading.Barrier(6)

    def take() -> None:
        barrier.wait()
        got.append(store.take(opaque))

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sum(1 for g in got if g is not None) == 1


def test_pending_login_expires(tmp_path):
    store = PendingLogins(tmp_path / "p.sqlite3", ttl=-1)  # everything is already stale
    opaque = store.put({"state": "s"})
    assert store.peek(opaque) is None and store.take(opaque) is None


@pytest.mark.parametrize("bad", [None, "", 42, "unknown-id"])
def test_pending_lookup_of_garbage_is_none(tmp_path, bad):
    assert PendingLogins(tmp_path / "p.sqlite3", ttl=60).take(bad) is None
