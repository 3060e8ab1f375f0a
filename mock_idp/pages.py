"""HTML responses with the security headers every page of the mock carries (R5).

No scripts, no third-party resources: gclogin's one stylesheet inlined under a
per-response nonce (service.page_stylesheet), and a form-action limited to this origin plus the one redirect target
the form may lead to (browsers apply form-action to the redirect after a POST).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Response, render_template

from service import content_security_policy, page_stylesheet, security_headers

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


def origin(uri: str) -> str | None:
    """scheme://host[:port] of a URI, if it is safe to put in a CSP."""
    parts = urlsplit(uri)
    value = f"{parts.scheme}://{parts.netloc}"
    return value if _ORIGIN.fullmatch(value) else None


def html_page(template: str, status: int = 200, form_targets: Iterable[str] = (),
              **context: Any) -> Response:
    nonce = secrets.token_urlsafe(16)
    body = render_template(template, nonce=nonce, stylesheet=page_stylesheet(), **context)
    response = Response(body, status=status, mimetype="text/html")
    targets = [t for t in (origin(u) for u in form_targets) if t]
    form_action = ["'self'", *targets] if context.get("has_form") else []
    response.headers.update(security_headers(
        content_security_policy(nonce, form_action=form_action, scripts=False)))
    return response
