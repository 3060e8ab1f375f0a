"""The three logins, the token cache, and gc's environment-variable overrides.

Nothing heavy is imported here: a browser login imports the loopback server
(http.server, and cryptography for HTTPS) only when it actually runs, and the HTTP client
(service.api: urllib, http.client, ssl) is imported by the calls that use it, so
`gclogin profiles list` never loads it.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import TypeVar

from .config_store import ConfigStore
from .environments import Endpoints, normalize_environment, resolve
from .errors import AuthenticationError, InvalidValueError, LoginRequiredError, ProfileNotFoundError
from .profiles import GrantType, Profile, TokenData, build_redirect_uri
from .mixup import refuse_mixup
from .untrusted import clean_secret

ENV_REGION = "GENESYSCLOUD_REGION"
ENV_CLIENT_ID = "GENESYSCLOUD_OAUTHCLIENT_ID"
ENV_CLIENT_SECRET = "GENESYSCLOUD_OAUTHCLIENT_SECRET"
ENV_ACCESS_TOKEN = "GENESYSCLOUD_ACCESS_TOKEN"
T = TypeVar("T")


@dataclass(frozen=True)
class LoginOptions:
    """How to run a login (from CLI flags)."""

    open_browser: bool = True
    timeout: float = 300.0
    insecure: bool = False
    scope: str | None = None


@dataclass(frozen=True)
class Resolved:
    """The profile to use after overrides, and whether tokens may be cached in the file."""

    profile: Profile
    persist: bool


@dataclass(frozen=True, repr=False)
class Overrides:
    """Values that replace the profile's: gc's global flags or its GENESYSCLOUD_* variables.

    ``environment`` is already normalized (a domain or base URL). repr never shows secrets.
    """

    environment: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    access_token: str | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.environment, self.client_id, self.client_secret,
                                           self.access_token))

    def __repr__(self) -> str:
        return (f"Overrides(environment={self.environment!r}, client_id={self.client_id!r}, "
                f"client_secret={'***' if self.client_secret else None}, "
                f"access_token={'***' if self.access_token else None})")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Overrides:
        """gc's variables; empty ones count as unset. A bad region names GENESYSCLOUD_REGION."""
        region = env.get(ENV_REGION) or None
        if region is not None:
            try:
                region = normalize_environment(region)
            except InvalidValueError as exc:
                raise InvalidValueError(ENV_REGION, exc.message) from None
        return cls(environment=region, client_id=_secret_var(env, ENV_CLIENT_ID),
                   client_secret=_secret_var(env, ENV_CLIENT_SECRET),
                   access_token=_secret_var(env, ENV_ACCESS_TOKEN))

    def over(self, lower: Overrides) -> Overrides:
        """These values where set, else ``lower``'s (flag > environment variable)."""
        return Overrides(**{f.name: getattr(self, f.name) if getattr(self, f.name) is not None
                            else getattr(lower, f.name) for f in fields(self)})


def _secret_var(env: Mapping[str, str], name: str) -> str | None:
    """A GENESYSCLOUD_* value stripped (a CI secret's trailing newline); None if empty.
    A control character inside is refused naming the variable, never the value."""
    return clean_secret(name, env.get(name) or "") or None


def apply_overrides(profile: Profile, overrides: Overrides) -> Profile:
    """The profile as the overrides make it (pure).

    A client secret means the client-credentials grant, as in gc; a client ID alone
    keeps a browser grant (it names another browser client) and otherwise means client
    credentials with the profile's secret. Changing the environment or the client drops
    the cached token, which belongs to the old ones.
    """
    changes: dict[str, object] = {}
    if overrides.environment is not None:
        changes.update(environment=overrides.environment, token_data=None)
    if overrides.client_secret is not None:
        changes.update(client_id=overrides.client_id or profile.client_id,
                       client_secret=overrides.client_secret,
                       grant_type=GrantType.CLIENT_CREDENTIALS, token_data=None)
    elif overrides.client_id is not None:
        grant = profile.grant_type if profile.grant_type.is_browser else GrantType.CLIENT_CREDENTIALS
        changes.update(client_id=overrides.client_id, grant_type=grant, token_data=None)
    if overrides.access_token is not None:
        changes["access_token"] = overrides.access_token
    return replace(profile, **changes)  # type: ignore[arg-type]


def resolve_profile(store: ConfigStore, name: str, env: Mapping[str, str] | None = None,
                    flags: Overrides | None = None) -> Resolved:
    """The named profile with overrides applied: flag > GENESYSCLOUD_* variable > profile (REFERENCE §4).

    With an override set, a missing file or profile is fine and nothing is cached
    (the overridden credentials are not the profile's).
    """
    env = os.environ if env is None else env
    overrides = (flags or Overrides()).over(Overrides.from_env(env))
    try:
        profile = store.get(name)
    except ProfileNotFoundError:
        if not overrides:
            raise
        profile = Profile(name=name)
    if not overrides:
        return Resolved(profile, persist=True)
    return Resolved(apply_overrides(profile, overrides), persist=False)


def endpoints_for(profile: Profile, insecure: bool = False) -> Endpoints:
    return resolve(profile.environment, insecure=insecure or profile.insecure)


def login(profile: Profile, options: LoginOptions = LoginOptions(),
          echo: Callable[[str], None] = print, env: Mapping[str, str] | None = None,
          now: datetime | None = None) -> TokenData:
    """Log in with the profile's grant and return the new token (nothing is saved here)."""
    endpoints = endpoints_for(profile, options.insecure)
    grant = profile.grant_type
    if grant is GrantType.CLIENT_CREDENTIALS:
        if not profile.client_id or not profile.client_secret:
            raise InvalidValueError("client_secret", "client credentials need a client ID and a secret",
                                    profile=profile.name)
        from . import api
        token = api.client_credentials_token(endpoints, profile.client_id, profile.client_secret,
                                             scope=options.scope)
        return token.to_token_data(now)
    if grant.is_browser:
        if not profile.client_id:
            raise InvalidValueError("client_credentials", "a client ID is required", profile=profile.name)
        from .loopback import browser_login
        redirect_uri = profile.redirect_uri or build_redirect_uri(0, profile.secure_login_enabled)
        token = browser_login(grant=grant, client_id=profile.client_id, redirect_uri=redirect_uri,
                              endpoints=endpoints, timeout=options.timeout,
                              open_browser=options.open_browser, echo=echo, scope=options.scope,
                              env=env)
        return token.to_token_data(now)
    raise InvalidValueError("grant_type", "grant type 0 (None) needs an access token", profile=profile.name)


def login_and_save(store: ConfigStore, resolved: Resolved, options: LoginOptions = LoginOptions(),
                   echo: Callable[[str], None] = print, env: Mapping[str, str] | None = None) -> TokenData:
    """Log in and cache the token in the profile (unless overrides are in effect).

    A browser login that could be a mix-up (service.mixup) is refused before it starts."""
    if resolved.profile.grant_type.is_browser:
        refuse_mixup(resolved.profile, store.valid_profiles())
    token = login(resolved.profile, options, echo, env)
    if resolved.persist:
        store_token(store, resolved.profile.name, token)
    return token


def call_with_token(store: ConfigStore, resolved: Resolved, call: Callable[[Endpoints, str], T],
                    options: LoginOptions = LoginOptions(), echo: Callable[[str], None] = print,
                    now: datetime | None = None) -> T:
    """Run ``call(endpoints, token)`` with the best token; re-login once if it is refused.

    Order (as gc): an explicit access token, then a cached unexpired token, then a new
    client-credentials login. Browser grants never start a login here: they ask the user.
    """
    profile = resolved.profile
    endpoints = endpoints_for(profile, options.insecure)
    if profile.access_token:
        return call(endpoints, profile.access_token)
    cached = profile.token_data
    if cached is not None and cached.is_valid(now):
        try:
            return call(endpoints, cached.access_token)
        except AuthenticationError:
            if resolved.persist:
                store_token(store, profile.name, None)
            if profile.grant_type is not GrantType.CLIENT_CREDENTIALS:
                raise LoginRequiredError(profile.name) from None
    if profile.grant_type is GrantType.CLIENT_CREDENTIALS:
        token = login_and_save(store, resolved, options, echo)
        return call(endpoints, token.access_token)
    if profile.grant_type.is_browser:
        raise LoginRequiredError(profile.name)
    raise InvalidValueError("access_token", "the profile has no access token and no grant type to get one",
                            profile=profile.name)


def logout(store: ConfigStore, resolved: Resolved, options: LoginOptions = LoginOptions()) -> bool:
    """Revoke the cached token on the server (DELETE /api/v2/tokens/me), then drop it locally.

    Returns False if there was no token to revoke. A token the server already refuses
    (401) counts as revoked. An unreadable cached token (Profile.token_error) cannot be
    revoked; it is just dropped.
    """
    profile = resolved.profile
    token = profile.access_token or (profile.token_data.access_token if profile.token_data else "")
    if not token:
        if resolved.persist and profile.token_error:
            store_token(store, profile.name, None)
        return False
    from . import api
    try:
        api.revoke_token(endpoints_for(profile, options.insecure), token)
    except AuthenticationError:
        pass
    if resolved.persist and (profile.token_data is not None or profile.token_error):
        store_token(store, profile.name, None)
    return True


def store_token(store: ConfigStore, name: str, token: TokenData | None) -> None:
    """Cache (or, with None, drop) a profile's token: only oauth_token_data changes.

    The profile is re-read under the store's lock, so a concurrent edit of this or any
    other profile is kept. ProfileNotFoundError if the profile is gone.
    """
    from .profiles import profile_from_table, set_profile
    with store.transaction() as doc:
        item = doc.get(name)
        if not isinstance(item, dict):
            raise ProfileNotFoundError(name, store.path)
        try:
            set_profile(doc, profile_from_table(name, item).with_token(token))
        except InvalidValueError as exc:
            raise exc.in_file(store.path) from None

