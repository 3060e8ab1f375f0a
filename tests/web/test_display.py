"""How times and redirect URIs read on the pages (pure functions, property-tested)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, UTC

from hypothesis import given, settings
from hypothesis import strategies as st

from service.profiles import GrantType, Profile, TokenData
from service.web import display
from service.web.profiles import token_status

NOW = datetime(2026, 11, 23, 15, 56, 55, 17463, tzinfo=UTC)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))
deltas = st.timedeltas(min_value=timedelta(days=-3650), max_value=timedelta(days=3650))


def test_the_reported_expiry_reads_as_utc_to_the_second_and_relative():
    expiry = datetime(2026, 11, 24, 14, 56, 55, 17463, tzinfo=UTC)
    assert display.when(expiry, NOW) == "2026-11-24 14:56:55 UTC (in 23 h)"


def test_other_zones_are_shown_in_utc():
    cet = timezone(timedelta(hours=1))
    assert display.utc_time(datetime(2026, 1, 1, 1, 0, 0, tzinfo=cet)) == "2026-01-01 00:00:00 UTC"


@settings(max_examples=100)
@given(moments)
def test_utc_time_is_to_the_second(moment):
    text = display.utc_time(moment)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)
    assert datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC) \
        == moment.replace(microsecond=0)


@settings(max_examples=100)
@given(deltas)
def test_relative_names_direction_and_the_largest_whole_unit(delta):
    text = display.relative(delta)
    seconds = int(abs(delta.total_seconds()))
    if seconds == 0:
        assert text == "now"
        return
    match = re.fullmatch(r"(in )?(\d+) (d|h|min|s)( ago)?", text)
    assert match and bool(match.group(1)) == (delta > timedelta(0)) != bool(match.group(4))
    size = {"d": 86400, "h": 3600, "min": 60, "s": 1}[match.group(3)]
    amount = int(match.group(2))
    assert amount >= 1 and amount * size <= seconds < (amount + 1) * size
    assert size == 86400 or seconds < size * {1: 60, 60: 60, 3600: 24}[size]


def test_relative_examples():
    assert display.relative(timedelta(seconds=42)) == "in 42 s"
    assert display.relative(timedelta(minutes=-5, seconds=-3)) == "5 min ago"
    assert display.relative(timedelta(days=2, hours=5)) == "in 2 d"


def test_redirect_uri_port_zero_is_explained():
    assert display.redirect_uri("http://localhost:0") == "http://localhost, port chosen at login time"
    assert display.redirect_uri("https://localhost:0") == "https://localhost, port chosen at login time"
    assert display.redirect_uri("http://localhost:8085") == "http://localhost:8085"
    assert display.redirect_uri("") == ""


def _profile(expiry: datetime) -> Profile:
    return Profile(name="p", grant_type=GrantType.IMPLICIT, client_id="c",
                   token_data=TokenData(access_token="t", expiry=expiry))


def test_token_status_is_human_readable():
    assert token_status(_profile(NOW + timedelta(hours=23, minutes=59)), NOW) \
        == "valid until 2026-11-24 15:55:55 UTC (in 23 h)"
    assert token_status(_profile(NOW - timedelta(minutes=3)), NOW) \
        == "expired 2026-11-23 15:53:55 UTC (3 min ago)"
    soon = token_status(_profile(NOW + timedelta(seconds=5)), NOW)
    assert soon.startswith("expires 2026-11-23 15:57:00 UTC (in 5 s)") and "log in again" in soon
