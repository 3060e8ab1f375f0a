"""The hardening headers of every HTML page we serve (R5), as plain data.

One definition for the CLI's loopback pages, the web service and the mock IdP, so the
three cannot drift apart. Standard library only: importing it pulls in no web framework.
"""
from __future__ import annotations

from collections.abc import Iterable


def content_security_policy(nonce: str, *, form_action: Iterable[str] = ("'self'",),
                            scripts: bool = True, own_assets: bool = False,
                            connect_self: bool = False) -> str:
    """Nothing loads but nonce'd inline styles (and scripts, if ``scripts``), plus this
    origin's stylesheet and images if ``own_assets``; scripts may fetch() only this
    origin, and only if ``connect_self``; forms lead only to ``form_action`` (an empty
    one allows none); no framing, no ``<base>``."""
    own = "'self' " if own_assets else ""
    directives = ["default-src 'none'"]
    if scripts:
        directives.append(f"script-src 'nonce-{nonce}'")
    if connect_self:
        directives.append("connect-src 'self'")
    directives.append(f"style-src {own}'nonce-{nonce}'")
    if own_assets:
        directives.append("img-src 'self'")
    forms = " ".join(form_action) or "'none'"
    directives += [f"form-action {forms}", "frame-ancestors 'none'", "base-uri 'none'"]
    return "; ".join(directives)


def security_headers(csp: str, *, no_store: bool = True) -> dict[str, str]:
    """csp with no referrer, no framing, no MIME sniffing and (if ``no_store``) no caching:
    pages may show tokens, secrets or session-bound forms."""
    headers = {"Content-Security-Policy": csp, "Referrer-Policy": "no-referrer",
               "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}
    if no_store:
        headers |= {"Cache-Control": "no-store", "Pragma": "no-cache"}
    return headers
