"""gclogin: the reference Genesys Cloud login client, as a library.

This module is the front door: everything in ``__all__`` is public and stable; every
other module of the package is internal and may change. The CLI (``service.cli``), the
web service (``service.web``) and the mock IdP use only these names from here.

``create_app`` (the web service's factory) is resolved lazily, so ``import service``
never imports Flask; ``gunicorn 'service:create_app()'`` still works.

    from service import ConfigStore, LoginOptions, login_and_save, resolve_profile

    store = ConfigStore(default_config_path())
    resolved = resolve_profile(store, "DEFAULT")
    login_and_save(store, resolved, LoginOptions(open_browser=True))
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config_store import ConfigStore, default_config_path
from .environments import DEFAULT_ENVIRONMENT, Endpoints, normalize_environment
from .errors import (ApiError, AuthenticationError, ConfigError, ConfigParseError, GcloginError,
                     InvalidValueError, LoginCancelledError, LoginRequiredError, LoginTimeoutError,
                     NetworkError, NoResponseError, OAuthError, PortInUseError, ProfileAnswersError,
                     ProfileNotFoundError, RedirectError, StateError)
from .gunicorn_settings import GUNICORN_SETTINGS
from .logins import (LoginOptions, Overrides, Resolved, call_with_token, login, login_and_save, logout,
                    resolve_profile)
from .page_style import page_stylesheet
from .profile_answers import profile_from_answers
from .private_files import UnsafePathError, open_private, own_private_file, owned_private_dir, private_dir
from .profiles import DEFAULT_PROFILE, GrantType, Profile, TokenData
from .redirect_uris import (AnyPortRule, accepts_any_port, is_valid_redirect_uri, redirect_uri_allowed,
                            registered_loopback_ports)
from .security_headers import content_security_policy, security_headers

if TYPE_CHECKING:
    from .web import create_app

__all__ = [
    # the config store and profile values
    "ConfigStore", "DEFAULT_ENVIRONMENT", "DEFAULT_PROFILE", "Endpoints", "GrantType", "Profile",
    "TokenData", "default_config_path", "normalize_environment",
    # gc's new-profile rules (the CLI's prompts and the web form)
    "ProfileAnswersError", "profile_from_answers",
    # logging in
    "LoginOptions", "Overrides", "Resolved", "call_with_token", "login", "login_and_save", "logout",
    "resolve_profile",
    # the error tree (service.errors draws it)
    "ApiError", "AuthenticationError", "ConfigError", "ConfigParseError", "GcloginError",
    "InvalidValueError", "LoginCancelledError", "LoginRequiredError", "LoginTimeoutError",
    "NetworkError", "NoResponseError", "OAuthError", "PortInUseError", "ProfileNotFoundError",
    "RedirectError", "StateError",
    # pure rules the mock IdP shares with the client
    "GUNICORN_SETTINGS", "content_security_policy", "is_valid_redirect_uri", "redirect_uri_allowed",
    "AnyPortRule", "accepts_any_port", "registered_loopback_ports",
    "security_headers", "page_stylesheet",
    # files that hold secrets: 0600 in a 0700 directory
    "UnsafePathError", "open_private", "own_private_file", "owned_private_dir", "private_dir",
    # the web service's app factory (lazy)
    "create_app",
]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .web import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
