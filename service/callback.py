"""The OAuth callback without a web framework: what the CLI's loopback server and the web
service's ``/callback`` both do with a redirect.

GET ?code=..&state=..   PKCE: state checked, code exchanged at the login's own issuer (R26)
GET ?error=..&state=..  an RFC 6749 error response (R3)
GET (nothing)           the implicit relay page: its nonce'd inline script reads the
                        fragment, scrubs the tab's history entry and POSTs it back
                        same-origin (R5, R22: the browser's on-disk history database
                        has the token-bearing URL already; no page script can remove it)
POST fragment=...       the implicit fragment, parsed and state-checked

``take_pending(received_state)`` returns the waiting login once and never again (R21):
the CLI holds one login, the web service looks one up in its store. Standard library
only, so the CLI's login never imports Flask (about a quarter of a second).
"""
from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import parse_qsl

from .api import exchange_code
from .errors import GcloginError, RedirectError, StateError
from .page_style import page_stylesheet
from .oauth import PendingLogin, TokenResponse, parse_code_response, parse_implicit_response, parse_params
from .profiles import GrantType
from .security_headers import content_security_policy, security_headers

TakePending = Callable[[str | None], "PendingLogin | None"]
Exchange = Callable[[PendingLogin, str], TokenResponse]

TEMPLATES = Path(__file__).with_name("templates")
RESPONSE_KEYS = frozenset({"code", "state", "error", "error_description", "error_uri", "iss"})
REFUSED = "refused: the state is missing, wrong or already used (possible CSRF)"


@dataclass(frozen=True)
class Completion:
    """What one redirect did: ``pending`` is the login it consumed (None: refused, so the
    login keeps waiting), ``outcome`` the token or the error to show."""

    pending: PendingLogin | None
    outcome: TokenResponse | GcloginError


def default_exchange(pending: PendingLogin, code: str) -> TokenResponse:
    """Exchange at the token endpoint of the environment the login started with (R26)."""
    assert pending.code_verifier is not None
    return exchange_code(pending.endpoints, code=code, redirect_uri=pending.redirect_uri,
                         code_verifier=pending.code_verifier, client_id=pending.client_id)


def is_response(query: str) -> bool:
    """True if a callback's query carries an authorization response (else: the relay page)."""
    return any(name in RESPONSE_KEYS for name, _ in parse_qsl(query, keep_blank_values=True))


def complete_code(raw_query: bytes, take_pending: TakePending,
                  exchange: Exchange = default_exchange) -> Completion:
    """A redirect with the response in its query: a PKCE code (or an error) for a waiting login."""
    try:
        query = raw_query.decode("utf-8")
    except UnicodeDecodeError:
        return Completion(None, RedirectError("the response is not valid UTF-8"))
    return _complete(query, take_pending, GrantType.PKCE, "this login expected an implicit (fragment) "
                     "response", lambda p: exchange(p, parse_code_response(query, p.state, p.endpoints.login_url)))


def complete_fragment(fragment: str, take_pending: TakePending) -> Completion:
    """The relayed fragment of an implicit redirect, for a waiting login."""
    return _complete(fragment, take_pending, GrantType.IMPLICIT, "this login expected a code in the "
                     "query, not a fragment", lambda p: parse_implicit_response(fragment, p.state))


def _complete(raw: str, take_pending: TakePending, grant: GrantType, wrong_grant: str,
              finish: Callable[[PendingLogin], TokenResponse]) -> Completion:
    pending = None
    try:
        pending = take_pending(_state_of(raw))
        if pending is None:
            raise StateError(REFUSED)
        if pending.grant is not grant:
            raise RedirectError(wrong_grant)
        return Completion(pending, finish(pending))
    except GcloginError as exc:
        return Completion(pending, exc)


def _state_of(raw: str) -> str | None:
    """The state of a response, for the lookup only (it is checked exactly later)."""
    try:
        return parse_params(raw).get("state")
    except RedirectError:
        return None


# -- pages -------------------------------------------------------------------------------------
# string.Template, every value HTML-escaped here: the pages have two and four fields, and
# Jinja would cost the CLI's login its import and a compile per template.
_RELAY = Template((TEMPLATES / "loopback_relay.html").read_text(encoding="utf-8"))
_RESULT = Template((TEMPLATES / "loopback_result.html").read_text(encoding="utf-8"))


def relay_page(nonce: str, action: str, *, fetch: bool = False) -> str:
    """The implicit relay page; ``nonce`` must be the one in page_headers (R5).

    It POSTs the fragment to ``action`` by submitting its form (a navigation: the web
    service answers with a redirect to its own page) or, with ``fetch``, from script,
    showing the answer in place (the CLI: one navigation fewer; needs page_headers(connect=True)).
    """
    return _RELAY.substitute(nonce=html.escape(nonce), action=html.escape(action),
                             send="fetch" if fetch else "form")


def result_page(ok: bool, title: str, detail: str = "", *, nonce: str = "") -> str:
    """The small success/error page; ``detail`` (e.g. an error_description) is shown escaped (R3).

    With ``nonce`` (the one in page_headers) it carries gclogin's stylesheet inline.
    """
    role = "" if ok else ' class="error" role="alert"'
    detail_html = f'<p id="detail"{role}>{html.escape(detail)}</p>\n' if detail else ""
    close_html = "<p>You can close this window and return to the terminal.</p>\n" if ok else ""
    style = f'<style nonce="{html.escape(nonce)}">{page_stylesheet()}</style>\n' if nonce else ""
    return _RESULT.substitute(title=html.escape(title), detail=detail_html, close=close_html, style=style)


def page_headers(nonce: str, *, connect: bool = False) -> dict[str, str]:
    """The hardening headers of both pages: only nonce'd inline script and style (R5), and
    with ``connect`` a fetch() to this origin (the relay page's POST)."""
    return security_headers(content_security_policy(nonce, connect_self=connect))
