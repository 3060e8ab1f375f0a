"""Text we did not write, made safe before it is used: secrets as they enter, server text as it leaves.

A token pasted with a trailing newline, or a CI secret stored with one, would otherwise
reach an HTTP header, where http.client's refusal quotes the whole header (R25). And an
error description from a hostile server could carry terminal escapes that retitle the
terminal or print fake instructions. Both are pure functions, applied at the edges.
"""
from __future__ import annotations

import unicodedata

#: Longest server-provided text shown in a message; the rest is cut ("…").
MAX_SHOWN = 300


def clean_secret(field: str, value: str) -> str:
    """``value`` without surrounding whitespace; InvalidValueError naming ``field`` (never the
    value) if a control character is left inside it."""
    stripped = value.strip()
    if has_control(stripped):
        from .errors import InvalidValueError  # errors imports this module
        raise InvalidValueError(field, "contains a control character (value not shown): paste it again")
    return stripped


def printable(text: object, limit: int = MAX_SHOWN) -> str:
    """Server-provided text for a message: every non-printable character (escapes, newlines,
    bidi controls) becomes "?", and text longer than ``limit`` is cut with "…"."""
    raw = str(text)
    shown = "".join(c if c.isprintable() else "?" for c in raw[:limit])
    return shown + ("…" if len(raw) > limit else "")


def has_control(text: str) -> bool:
    """A control character: Cc (C0, DEL, C1), Cf (bidi overrides, zero-width), line/paragraph
    separators; none belongs in a token or a secret."""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text)
