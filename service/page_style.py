"""The one stylesheet of every page we serve: the web service, the mock IdP, the CLI's loopback pages.

Its source is the web service's static file (which that app links and lets browsers cache);
the mock IdP and the loopback server inline it under the page's CSP nonce, so neither needs a
route for it nor a looser CSP. Standard library only: the CLI's login never imports Flask.
"""
from __future__ import annotations

import functools
from pathlib import Path

STYLESHEET = Path(__file__).parent / "web" / "static" / "style.css"


@functools.cache
def page_stylesheet() -> str:
    """The stylesheet's text (read once: it is package data and never changes at run time)."""
    text = STYLESHEET.read_text(encoding="utf-8")
    if "</" in text:  # inlined in <style>: must not be able to close it
        raise ValueError(f"{STYLESHEET}: '</' would end an inline <style> element")
    return text
