"""The demo seed adapted to where a stack runs: the web service's callback names the IdP's
host and port (one redirect URI per issuer, R26), so a stack on other ports registers its own."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import tomlkit

from service.environments import issuer_id

DEMO_SEED = Path(__file__).resolve().parents[1] / "mock_idp" / "seed.toml"


def web_callback(web_url: str, idp_url: str) -> str:
    """The web service's redirect URI for logins at the IdP the browser reaches at idp_url."""
    return f"{web_url.rstrip('/')}/callback/{issuer_id(idp_url)}"


def seed_with_callback(seed_text: str, callback: str, like_port: int = 8080) -> str:
    """The seed, with callback also registered on every client that lists a redirect URI
    on like_port (the demo seed's web port): the stack under test runs on a free port."""
    doc = tomlkit.parse(seed_text)
    for client in doc.get("clients", []):
        uris = client.get("registered_redirect_uri", [])
        if callback not in uris and any(urlsplit(u).port == like_port for u in uris):
            uris.append(callback)
    return tomlkit.dumps(doc)
