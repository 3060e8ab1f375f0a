"""The login's authorize request, sent once by us before the browser is sent there.

A wrong client ID or an unregistered redirect URI otherwise shows up as an error page in
the browser, and a server that cannot be reached as a browser error, while the CLI waits
for its timeout. So the request goes out first from here: GET, redirects not followed,
a short timeout, a bounded body. Only two answers stop the login: no answer at all
(NetworkError naming the origin, never the URL with its state) and a 4xx page
(AuthorizeRefusedError with the page's own words). A sign-in page, a redirect or a 5xx
carry on: the browser sends its own request and sees the same.

It changes nothing at the server worth keeping: ``Sec-Purpose: prefetch`` (Fetch) tells
a server this is not a navigation; the mock then stores no pending login and uses up no
scripted sign-in, and a server that ignores the header shows a sign-in page that nobody
uses (the mock caps those, Genesys's are its own). The browser gets its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from .environments import Endpoints, origin
from .errors import AuthorizeRefusedError, GcloginError
from .oauth import start_login
from .profiles import GrantType

#: seconds: the server answers an authorize GET at once or not at all
PREFLIGHT_TIMEOUT = 5.0
#: a redirect URI no client registers: asking with it makes the mock list the ones it has
PORT_PROBE_REDIRECT = "http://localhost:1/gclogin-port-probe"
#: seconds the port question waits for that answer
PORT_PROBE_TIMEOUT = 2.0
#: the longest page text kept as the reason
MAX_REASON = 200
_INVISIBLE = frozenset({"script", "style", "head", "title", "template", "noscript"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})


@dataclass(frozen=True)
class ErrorPage:
    """What an authorize error page says: its reason and, when it tells, the client's ports."""

    reason: str
    ports: tuple[int, ...] = ()
    any_port: bool = False


class _PageReader(HTMLParser):
    """Text of the element with id="error", the page's visible text, and #registered-ports."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []  # open elements' roles: "error", "hidden" or ""
        self.error: list[str] = []
        self.visible: list[str] = []
        self.found_error = False
        self.ports: tuple[int, ...] = ()
        self.any_port = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        values = dict(attrs)
        role = ""
        if values.get("id") == "error" and not self.found_error:
            role, self.found_error = "error", True
        elif tag in _INVISIBLE:
            role = "hidden"
        if values.get("id") == "registered-ports":
            self.ports = parse_ports(values.get("data-ports") or "")
            self.any_port = (values.get("data-any-port") or "").strip().lower() == "true"
        self.stack.append(role)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "hidden" in self.stack:
            return
        if "error" in self.stack:
            self.error.append(data)
        self.visible.append(data)


def parse_ports(text: str) -> tuple[int, ...]:
    """Space-separated port numbers 1-65535, ascending and each once; anything else is skipped."""
    return tuple(sorted({int(w) for w in text.split() if w.isdigit() and len(w) <= 5 and 1 <= int(w) <= 65535}))


def read_error_page(html: str) -> ErrorPage:
    """The reason an error page gives (pure): the text of its id="error" element, else all
    its visible text, whitespace collapsed and cut to MAX_REASON; never markup."""
    reader = _PageReader()
    try:
        reader.feed(html)
        reader.close()
    except (AssertionError, ValueError):  # malformed markup: keep what was read
        pass
    text = " ".join("".join(reader.error if reader.found_error else reader.visible).split())
    if len(text) > MAX_REASON:
        text = text[:MAX_REASON] + "…"
    return ErrorPage(text, reader.ports, reader.any_port)


def refusal(status: int, body: bytes) -> ErrorPage | None:
    """The error page in an authorize answer, or None when the login may go on (pure).

    2xx (a sign-in page, or the mock's 204 to a prefetch), 3xx (a redirect: to sign in,
    or back to the client with an error its callback shows) and 5xx go on.
    """
    if not 400 <= status < 500:
        return None
    page = read_error_page(body.decode("utf-8", "replace"))
    return page if page.reason else ErrorPage(f"HTTP {status}", page.ports, page.any_port)


def check_authorize(authorize_url: str, timeout: float = PREFLIGHT_TIMEOUT) -> None:
    """Send the authorize request; NetworkError if nobody answers, AuthorizeRefusedError for
    an error page, else None."""
    from .api import _send  # urllib: loaded only for a browser login

    where = origin(authorize_url)
    status, body = _send("GET", authorize_url, None,
                         {"Accept": "text/html", "Sec-Purpose": "prefetch"}, timeout,
                         log_url=where + "/oauth/authorize (before the browser)")
    page = refusal(status, body)
    if page is not None:
        raise AuthorizeRefusedError(where, page.reason, page.ports, page.any_port)


def client_ports(grant: GrantType, client_id: str, endpoints: Endpoints,
                 timeout: float = PORT_PROBE_TIMEOUT) -> tuple[tuple[int, ...], bool]:
    """The client's registered loopback ports and whether it takes any port, as far as the
    IdP tells: an authorize prefetch with PORT_PROBE_REDIRECT, whose error page the mock
    fills in. ((), False) when it does not tell (Genesys), or on any failure: the login
    itself reports those."""
    probe = start_login(grant, client_id=client_id, redirect_uri=PORT_PROBE_REDIRECT, endpoints=endpoints)
    try:
        check_authorize(probe.authorize_url(), timeout)
    except AuthorizeRefusedError as exc:
        return exc.ports, exc.any_port
    except GcloginError:
        pass
    return (), False
