"""How stored values read on the pages: times for people, not RFC 3339; port 0 explained.

Pure functions (the current time is a parameter) so they can be property-tested.
"""
from __future__ import annotations

from datetime import datetime, timedelta, UTC
from urllib.parse import urlsplit

_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def utc_time(moment: datetime) -> str:
    """``2026-11-24 14:56:55 UTC``: to the second, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def relative(delta: timedelta) -> str:
    """``in 23 h`` / ``5 min ago`` / ``now``: the largest whole unit, rounded down."""
    seconds = int(abs(delta.total_seconds()))
    if seconds == 0:
        return "now"
    for size, unit in _UNITS:
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            return f"in {amount}" if delta > timedelta(0) else f"{amount} ago"
    raise AssertionError("unreachable")


def when(moment: datetime, now: datetime) -> str:
    """``2026-11-24 14:56:55 UTC (in 23 h)``."""
    return f"{utc_time(moment)} ({relative(moment - now)})"


def redirect_uri(uri: str) -> str:
    """A profile's CLI redirect URI; port 0 means the CLI picks a free port per login."""
    if not uri:
        return ""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return uri
    if port == 0:
        return f"{parts.scheme}://{parts.hostname}, port chosen at login time"
    return uri
