"""The CLI's browser login through a loopback redirect server (implicit or PKCE).

``server`` runs one login (sockets, URL, browser, wait, shutdown); ``handler`` answers
its requests on the standard library's HTTP server; ``certs`` makes the one-login HTTPS
certificate; ``browser`` opens the login page. The callback itself (pages, parsing) is
``service.callback``, shared with the web service.
"""
from __future__ import annotations

from .server import DEFAULT_TIMEOUT, bind_hosts, browser_login, listen_loopback, self_signed_notice

__all__ = ["DEFAULT_TIMEOUT", "bind_hosts", "browser_login", "listen_loopback", "self_signed_notice"]
