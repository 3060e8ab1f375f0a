"""Point 11: anonymous GETs of /oauth/authorize cannot grow the mock's store without bound,
and one pending login cannot be used to guess passwords without end."""
from __future__ import annotations

import sqlite3

from mock_idp.store_api import MAX_PASSWORD_FAILURES, MAX_PENDING
from mock_idp.testing import parse_login_form
from .conftest import ALICE, implicit_params


def _pending_count(request, store_engine: str, tmp_path) -> int:
    if store_engine == "redis":
        import redis

        client = redis.Redis.from_url(request.getfixturevalue("redis_server").url)
        return sum(1 for _ in client.scan_iter("mock_idp:pending:*"))
    with sqlite3.connect(tmp_path / "mock_idp.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]


def test_anonymous_authorize_requests_are_capped_oldest_evicted(login, tmp_path, request, store_engine):
    first = login.start(**implicit_params())
    for _ in range(MAX_PENDING + 50):
        assert login.start(**implicit_params(state="x" * 500)).status_code == 200
    assert _pending_count(request, store_engine, tmp_path) == MAX_PENDING
    # the oldest went: its form is now refused, a recent one still works
    assert login.submit(first).status_code == 400
    assert login.run(**implicit_params()).status_code == 302


def test_five_wrong_passwords_end_the_pending_login(login):
    page = login.start(**implicit_params())
    for attempt in range(1, MAX_PASSWORD_FAILURES):
        page = login.submit(page, password=f"guess-{attempt}")
        assert parse_login_form(page.get_data(as_text=True)).error == "Wrong username or password."
    ended = login.submit(page, password="guess-last")
    assert ended.status_code == 429 and "Too many wrong passwords" in ended.get_data(as_text=True)
    # even the right password no longer works on this request
    late = login.submit(page, username=ALICE.username, password=ALICE.password)
    assert late.status_code == 400 and "Location" not in late.headers
