"""What the views share, hung off ``app.extensions["gclogin"]`` (no module state).

Also the one rule for where a profile's environment is reached from: when it names the
IdP this service was configured with (``SERVICE_IDP_URL`` / ``SERVICE_IDP_PUBLIC_URL``),
the browser goes to the public URL and the server calls the internal one (compose:
``http://localhost:8081`` vs ``http://idp:8081``); any other environment resolves as in
the CLI (``service.environments.resolve``) and both sides use the same URLs.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path


from flask import Flask, current_app, session

from service.config_store import ConfigStore
from service.environments import DEFAULT_ENVIRONMENT, REGIONS, Endpoints, issuer_id, resolve
from service.errors import InvalidValueError, ProfileNotFoundError
from service.logins import ENV_CLIENT_ID, ENV_CLIENT_SECRET, Resolved, resolve_profile, store_token
from service.profiles import GrantType, Profile, TokenData, set_profile

from .pending import PendingLogins
from .profile_form import edited


SESSION_ID = "sid"  # opaque id of this browser session's server-side tokens
CALLBACK_PREFIX = "/callback/"  # + the issuer id: the web service's redirect URIs


@dataclass(frozen=True)
class Routes:
    """Where the browser and the server reach one environment (a login is bound to it, R26)."""

    browser: Endpoints
    server: Endpoints


GENESYS_DOMAINS = frozenset(REGIONS.values())


def routes_for(environment: str, *, idp_url: str | None, idp_public_url: str | None,
               insecure: bool = False, allowed: frozenset[str] = frozenset()) -> Routes:
    """Pure: the browser-facing and server-side endpoints of an environment.

    The server calls what a profile names, so a profile must not turn it into a probe of
    other hosts (SSRF: any loopback port, any https host): only Genesys Cloud's domains,
    the configured IdP, and what ``allowed`` (``SERVICE_ALLOWED_ENVIRONMENTS``; ``*`` for
    any) adds are reached.
    """
    env = (environment or "").strip().rstrip("/")
    known = {u.rstrip("/").lower() for u in (idp_url, idp_public_url) if u}
    if env.lower() in known and idp_url:
        public = idp_public_url or idp_url
        return Routes(browser=Endpoints(env, public, public), server=Endpoints(env, idp_url, idp_url))
    endpoints = resolve(env or DEFAULT_ENVIRONMENT, insecure=insecure)
    if endpoints.environment.lower() not in GENESYS_DOMAINS | allowed and "*" not in allowed:
        raise InvalidValueError("environment", f"this web service talks only to Genesys Cloud domains and its "
                                f"configured IdP, not {endpoints.environment}; its operator can allow more "
                                "(SERVICE_ALLOWED_ENVIRONMENTS)")
    return Routes(browser=endpoints, server=endpoints)


def callback_url(public_url: str, routes: Routes) -> str:
    """Pure: the web service's redirect URI for one issuer (the browser's login URL names it)."""
    return f"{public_url.rstrip('/')}{CALLBACK_PREFIX}{issuer_id(routes.browser.login_url)}"


@dataclass
class WebContext:
    """The service's stores and settings."""

    store: ConfigStore
    pending: PendingLogins
    public_url: str
    idp_url: str | None
    idp_public_url: str | None
    genesyscloud: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    retries: int = 4
    retry_delay: float = 0.25
    allowed_environments: frozenset[str] = frozenset()
    preflight: bool = True

    @classmethod
    def from_app(cls, app: Flask) -> WebContext:
        cfg = app.config
        return cls(store=ConfigStore(Path(cfg["CONFIG_PATH"])),
                   pending=PendingLogins(Path(cfg["PENDING_DB"]), float(cfg["PENDING_LOGIN_TTL"])),
                   public_url=cfg["PUBLIC_URL"], idp_url=cfg["IDP_URL"],
                   idp_public_url=cfg["IDP_PUBLIC_URL"], genesyscloud=dict(cfg["GENESYSCLOUD"]),
                   timeout=float(cfg["HTTP_TIMEOUT"]), retries=int(cfg["IDP_RETRIES"]),
                   retry_delay=float(cfg["IDP_RETRY_DELAY"]),
                   allowed_environments=cfg["ALLOWED_ENVIRONMENTS"],
                   preflight=bool(cfg["AUTHORIZE_PREFLIGHT"]))

    def callback_url(self, environment: str, insecure: bool = False) -> str:
        """The redirect URI to register for logins at ``environment``:
        ``<public URL>/callback/<issuer id>``, one per issuer, so a response that comes
        back from another authorization server than the login went to is seen (R26)."""
        return callback_url(self.public_url, self.routes(environment, insecure))

    def default_environment(self) -> str:
        """The new-profile default: this deployment's IdP, else the region, else gc's."""
        region = self.genesyscloud.get("GENESYSCLOUD_REGION", "").lower()
        return self.idp_public_url or REGIONS.get(region, region) or DEFAULT_ENVIRONMENT

    # -- profiles: the CLI's store and its GENESYSCLOUD_* overrides (service.logins) ------
    def resolve(self, name: str) -> Resolved:
        """The profile as a login uses it, overrides applied by the library.

        Web rule on top: a client ID override without a secret keeps a browser grant
        (PKCE if the profile has none), since the web service logs users in through the
        browser; the library would otherwise turn it into client credentials. When
        overrides are in effect the token lives in this browser session, not the file.
        """
        env = dict(self.genesyscloud)
        client_id = env.get(ENV_CLIENT_ID) if not env.get(ENV_CLIENT_SECRET) else None
        if client_id:
            del env[ENV_CLIENT_ID]
        resolved = resolve_profile(self.store, name, env)
        if client_id:
            profile = resolved.profile
            grant = profile.grant_type if profile.grant_type.is_browser else GrantType.PKCE
            resolved = Resolved(replace(profile, client_id=client_id, grant_type=grant,
                                        token_data=None), persist=False)
        if not resolved.persist:
            cached = self.pending.get_token(session.get(SESSION_ID), name)
            resolved = Resolved(resolved.profile.with_token(
                TokenData.from_json(cached) if cached else None), persist=False)
        return resolved

    def load_profile(self, name: str) -> Profile:
        return self.resolve(name).profile

    def save_token(self, name: str, token: TokenData | None) -> None:
        """Cache (or drop) a profile's token: in the file, or this session's store."""
        if self.resolve(name).persist:
            store_token(self.store, name, token)
        else:
            if SESSION_ID not in session:
                session[SESSION_ID] = secrets.token_urlsafe(32)
            self.pending.put_token(session[SESSION_ID], name, token.to_json() if token else None)

    def forget_session_token(self, resolved: Resolved) -> None:
        """Drop a session-held token (the library drops file-cached ones itself)."""
        if not resolved.persist and session.get(SESSION_ID):
            self.pending.put_token(session[SESSION_ID], resolved.profile.name, None)

    def save_new(self, profile: Profile, *, overwrite: bool) -> None:
        """Save a new profile; an existing one is replaced only when overwrite is set."""
        with self.store.transaction() as doc:
            if profile.name in doc and not overwrite:
                raise InvalidValueError("name", f"profile {profile.name!r} already exists: "
                                                "tick 'Overwrite' to replace it")
            if profile.name in doc:
                del doc[profile.name]
            set_profile(doc, profile)

    def save_edit(self, profile: Profile) -> None:
        """Update a saved profile in place (its other keys and the file's layout kept)."""
        with self.store.transaction() as doc:
            if profile.name not in doc:
                raise ProfileNotFoundError(profile.name, self.store.path)
            set_profile(doc, profile)

    def save_answers(self, profile: Profile, fields: dict) -> None:
        """Save a profile the form described: an edit in place, a new one (overwrite if ticked)."""
        if fields.get("edit"):
            self.save_edit(edited(self.store.get(profile.name), profile))
        else:
            self.save_new(profile, overwrite=bool(fields.get("overwrite")))

    def server_profile(self, profile: Profile) -> Profile:
        """The profile as the library's server-side calls must see it: an environment naming
        this deployment's IdP becomes the server-side URL (an explicit http opt-in, R11)."""
        routes = self.routes(profile.environment, profile.insecure)
        if routes.server is routes.browser:
            return profile
        return replace(profile, environment=routes.server.login_url, insecure=True)

    def routes(self, environment: str, insecure: bool = False) -> Routes:
        return routes_for(environment, idp_url=self.idp_url, idp_public_url=self.idp_public_url,
                          insecure=insecure, allowed=self.allowed_environments)


def web() -> WebContext:
    """The current app's context."""
    return current_app.extensions["gclogin"]


__all__ = ["CALLBACK_PREFIX", "Routes", "WebContext", "callback_url", "routes_for", "web"]
