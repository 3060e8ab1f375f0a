"""The client's exceptions: one tree, turned into a one-line message in one place (cli.py).

Messages are safe to print: they never contain secrets, tokens, codes or verifiers, and
text a server sent (error, error_description, an API message) passes through
``untrusted.printable`` first.

    GcloginError                      base; ``str(exc)`` is the one line shown to users
    ├── ConfigError                   config.toml could not be used (names the file)
    │   ├── ConfigParseError          malformed TOML (names file, line and column)
    │   ├── ProfileNotFoundError      no such profile
    │   └── UnsafePathError           a secrets dir or file someone else owns or planted (private_files)
    ├── InvalidValueError             a bad value; names the key/parameter
    │   └── ProfileAnswersError       new-profile answers: one message per field (``errors``)
    ├── RedirectError                 a redirect/callback we cannot accept
    │   └── StateError                state missing, wrong or already used (R20, R21)
    ├── OAuthError                    an RFC 6749 error response (error, error_description)
    ├── AuthorizeRefusedError         the IdP's error page for the authorize request (checked first)
    ├── LoginTimeoutError             nobody completed the browser login in time (R19)
    ├── LoginCancelledError           Ctrl-C during a browser login
    ├── LoginRequiredError            a browser-grant profile needs `gclogin login`
    ├── NetworkError                  the server could not be reached
    │   ├── NoResponseError           the request went out, no answer came back
    │   └── PortInUseError            the loopback redirect port is taken (``port``)
    └── ApiError                      a Genesys API error body (status, code, message)
        └── AuthenticationError       HTTP 401: token missing, invalid, expired or revoked
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .untrusted import printable


class GcloginError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code: int = 1


class ConfigError(GcloginError):
    """The configuration file cannot be read or written."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ConfigParseError(ConfigError):
    """config.toml is not valid TOML; we refuse to overwrite it."""

    def __init__(self, path: Path | str, line: int, col: int, reason: str) -> None:
        super().__init__(f"{path}: line {line}, column {col}: {reason}", path)
        self.line = line
        self.col = col


class ProfileNotFoundError(ConfigError):
    """The named profile is not in the file."""

    def __init__(self, name: str, path: Path | str | None = None, existing: Sequence[str] | None = None) -> None:
        where = f" in {path}" if path is not None else ""
        if existing is None:
            known = ""
        elif existing:
            known = f"; the profiles there are {', '.join(existing)}"
        else:
            known = "; there are no profiles yet (gclogin profiles new creates one)"
        super().__init__(f"profile {name!r} not found{where}{known}", path)
        self.name = name


class InvalidValueError(GcloginError):
    """A value (profile key, flag, environment) is invalid; ``key`` names it.

    ``message`` is the reason alone; ``str()`` prefixes the file, the profile and the key
    that are known, so the one line says where to look.
    """

    def __init__(self, key: str, message: str, profile: str | None = None,
                 path: Path | str | None = None) -> None:
        prefix = f"{path}: " if path is not None else ""
        prefix += f"profile {profile!r}: " if profile else ""
        super().__init__(f"{prefix}{key}: {message}")
        self.key = key
        self.message = message
        self.profile = profile
        self.path = Path(path) if path is not None else None

    def in_file(self, path: Path | str) -> InvalidValueError:
        """The same error, naming the config file it came from."""
        return InvalidValueError(self.key, self.message, self.profile, path)


class ProfileAnswersError(InvalidValueError):
    """One or more answers are invalid; ``errors`` maps each bad field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first = next(iter(errors))
        others = [f for f in errors if f != first]
        super().__init__(first, errors[first] + (f" (also wrong: {', '.join(others)})" if others else ""))
        self.errors = dict(errors)


class RedirectError(GcloginError):
    """The authorization redirect is malformed or not for us."""


class StateError(RedirectError):
    """`state` missing, wrong or replayed: possible CSRF, the login is refused."""


#: RFC 6749 errors that mean "this client, secret, user or grant was refused", as opposed
#: to a broken request or a server in trouble (server_error, temporarily_unavailable...)
REJECTION_ERRORS = frozenset({
    "invalid_client", "unauthorized_client", "access_denied", "invalid_grant", "invalid_scope",
    "unsupported_grant_type", "unsupported_response_type",
})


WRONG_CLIENT_CREDENTIALS = "the client ID or secret is not valid"


def readable_description(error: str, description: str | None) -> str | None:
    """A server's error_description as a user can read it.

    Authlib's (the mock's) answer to a wrong secret lists Python reprs of its
    authentication methods; what the user needs is that the ID or secret is wrong.
    """
    if description and error == "invalid_client" and "cannot authenticate with methods" in description:
        return WRONG_CLIENT_CREDENTIALS
    return description


class OAuthError(GcloginError):
    """An RFC 6749 error response from the authorization server."""

    @property
    def rejects_credentials(self) -> bool:
        """The server refused the credentials (not a malformed exchange or a server failure)."""
        return self.error in REJECTION_ERRORS

    @property
    def cancelled(self) -> bool:
        """The user declined at the sign-in page (its Cancel button answers access_denied)."""
        return self.error == "access_denied"

    def __init__(self, error: str, description: str | None = None, uri: str | None = None) -> None:
        # The server wrote these: no terminal escapes, no screenfuls (printable).
        error = printable(error, 80)
        description = printable(description) if description is not None else None
        description = readable_description(error, description)
        uri = printable(uri) if uri is not None else None
        text = f"login failed: {error}"
        if description:
            text += f": {description}"
        super().__init__(text)
        self.error = error
        self.description = description
        self.uri = uri


#: what precedes the redirect URI in an AuthorizeRefusedError that names it
REDIRECT_URI_SENT = "The redirect URI this login sent (register it on the OAuth client):"


class AuthorizeRefusedError(GcloginError):
    """The authorization server answered the login's authorize request, sent before the
    browser opens, with its error page (unknown client, unregistered redirect URI).

    ``reason`` is the page's own text, made printable; ``ports`` the client's registered
    loopback ports and ``any_port`` whether any port is accepted, when the page says
    (the mock does, Genesys does not). ``redirect_uri``, when given, is named too: the
    web service's callback, which a person must register on the client and cannot guess.
    """

    def __init__(self, login_origin: str, reason: str, ports: tuple[int, ...] = (),
                 any_port: bool = False, redirect_uri: str = "") -> None:
        self.reason = printable(reason)
        self.ports = ports
        self.any_port = any_port
        self.redirect_uri = redirect_uri
        text = f"the login server {login_origin} refused this login before the browser opened: {self.reason}"
        if ports:
            text += f" (the client's registered loopback redirect ports: {', '.join(map(str, ports))})"
        elif any_port:
            text += " (the client accepts http://localhost on any port)"
        if redirect_uri:
            text += f". {REDIRECT_URI_SENT} {printable(redirect_uri)}"
        super().__init__(text)


class LoginTimeoutError(GcloginError):
    """The browser login did not complete before the timeout."""


class LoginCancelledError(GcloginError):
    """The user interrupted the login."""

    exit_code = 130


class LoginRequiredError(GcloginError):
    """A browser-grant profile has no valid token; the user must log in interactively."""

    def __init__(self, profile: str) -> None:
        super().__init__(f"no valid token cached for profile {profile!r}: run gclogin login -p {shell_arg(profile)}")
        self.profile = profile


class NetworkError(GcloginError):
    """The server could not be reached or answered garbage."""


class NoResponseError(NetworkError):
    """The whole request was sent but no answer came back (timed out, connection dropped).

    The server may have acted on it, so a request that must not run twice (a code
    exchange: the code is single-use, and a replay revokes the token it gave) is not
    retried after this.
    """


class PortInUseError(NetworkError):
    """Another program listens on the loopback redirect port this login needs."""

    def __init__(self, message: str, port: int) -> None:
        super().__init__(message)
        self.port = port


class ApiError(GcloginError):
    """A Genesys API error (REFERENCE §8); ``message`` is the server's message."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 body: dict | None = None) -> None:
        message = printable(message)  # the server's text: no terminal escapes (printable)
        code = printable(code, 80) if code is not None else None
        super().__init__(f"{message} (HTTP {status}{', ' + code if code else ''})")
        self.status = status
        self.message = message
        self.code = code
        self.body = body or {}


class AuthenticationError(ApiError):
    """HTTP 401: the bearer token is missing, invalid, expired or revoked."""


def shell_arg(text: str) -> str:
    """A profile name as a shell argument in a suggested command ("my org" → 'my org')."""
    import shlex  # only on this error path
    return shlex.quote(text)
