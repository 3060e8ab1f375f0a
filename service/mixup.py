"""The CLI's guard against the mix-up attack (R26, RFC 9700 §4.4.2) where the redirect
URI cannot say which server answered: a loopback redirect URI is ``http://localhost:PORT``
for every environment (gc's registration), and Genesys sends no ``iss``.

A Genesys client ID is minted by one org's Genesys Cloud. The same ID on a profile whose
environment is some other server (a base URL) is how a mix-up is staged: that server
bounces the browser to the real login, the real code comes back to the loopback port,
and the CLI would hand it, with the PKCE verifier, to the other server's token endpoint.
So a browser login at a base URL with a client ID another profile uses at a Genesys domain
is refused. Pure: the caller brings the profiles.
"""
from __future__ import annotations

from collections.abc import Iterable

from .errors import InvalidValueError
from .profiles import Profile


def is_base_url(environment: str) -> bool:
    return environment.strip().lower().startswith(("http://", "https://"))


def mixup_conflict(profile: Profile, others: Iterable[Profile]) -> Profile | None:
    """The first other profile that uses ``profile``'s browser client ID at a Genesys domain,
    when ``profile`` logs in at a base URL; None when there is no such risk."""
    if not profile.grant_type.is_browser or not profile.client_id or not is_base_url(profile.environment):
        return None
    for other in others:
        if other.name != profile.name and other.client_id == profile.client_id \
                and other.environment and not is_base_url(other.environment):
            return other
    return None


def refuse_mixup(profile: Profile, others: Iterable[Profile]) -> None:
    """Raise InvalidValueError (key ``environment``) when mixup_conflict finds a profile."""
    other = mixup_conflict(profile, others)
    if other is not None:
        raise InvalidValueError(
            "environment", f"its client ID is also profile {other.name!r}'s at {other.environment}; a "
            f"browser login for that client at {profile.environment} could hand that org's sign-in to "
            "this server (mix-up attack, R26): refused. Give this profile its own client ID, or use "
            f"the Genesys domain", profile=profile.name)
