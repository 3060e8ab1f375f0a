"""The library's front door: exactly these names are public (as httpx pins its own)."""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest

import service
from devtools.servers import REPO

PUBLIC = {
    "ConfigStore", "DEFAULT_ENVIRONMENT", "DEFAULT_PROFILE", "Endpoints", "GrantType", "Profile",
    "TokenData", "default_config_path", "normalize_environment",
    "ProfileAnswersError", "profile_from_answers",
    "LoginOptions", "Overrides", "Resolved", "call_with_token", "login", "login_and_save", "logout",
    "resolve_profile",
    "ApiError", "AuthenticationError", "ConfigError", "ConfigParseError", "GcloginError",
    "InvalidValueError", "LoginCancelledError", "LoginRequiredError", "LoginTimeoutError",
    "NetworkError", "NoResponseError", "OAuthError", "PortInUseError", "ProfileNotFoundError",
    "RedirectError", "StateError",
    "GUNICORN_SETTINGS", "content_security_policy", "is_valid_redirect_uri", "redirect_uri_allowed",
    "AnyPortRule", "accepts_any_port", "registered_loopback_ports",
    "security_headers", "page_stylesheet",
    "UnsafePathError", "open_private", "own_private_file", "owned_private_dir", "private_dir",
    "create_app",
}


def test_exported_names_are_exactly_the_public_api():
    assert set(service.__all__) == PUBLIC
    assert len(service.__all__) == len(PUBLIC)  # no name listed twice


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_exported_name_resolves(name):
    assert getattr(service, name) is not None


def test_error_tree_has_one_root():
    errors = [getattr(service, n) for n in service.__all__ if n.endswith("Error")]
    assert all(issubclass(e, service.GcloginError) for e in errors)


def test_create_app_is_lazy_and_unknown_names_raise():
    from service.web import create_app

    assert service.create_app is create_app
    with pytest.raises(AttributeError, match="no_such_thing"):
        service.no_such_thing  # noqa: B018


# Each named module must exist: a renamed module would otherwise pass by not importing.
@pytest.mark.slow
@pytest.mark.parametrize("module", ["service", "service.profiles", "service.config_store", "service.cli",
                                    "service.logins", "service.loopback", "service.callback"])
def test_importing_library_modules_does_not_import_flask(module):
    code = f"import sys, importlib\nimportlib.import_module({module!r})\nprint('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((a.name, ()) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, tuple(a.name for a in node.names)


def test_the_mock_uses_only_public_names_of_service():
    """docs/DESIGN.md: mock_idp imports `service`'s front door, never its modules."""
    for path in sorted((REPO / "mock_idp").rglob("*.py")):
        for module, names in _imports(path):
            if module == "service":
                assert set(names) <= PUBLIC, (path, names)
            else:
                assert not module.startswith("service."), (path, module)


@pytest.mark.parametrize(("package", "forbidden"), [
    ("service", ("mock_idp", "devtools", "tests", "bench")),
    ("mock_idp", ("devtools", "tests", "bench")),
    ("bench", ("tests",)),
    ("tests", ("devtools.demo",)),
])
def test_who_may_import_whom(package, forbidden):
    """Product code never imports dev tools; helpers are shared from devtools, not borrowed
    from the demo (only the demo's own tests, tests/devtools, import it)."""
    for path in sorted((REPO / package).rglob("*.py")):
        if path.is_relative_to(REPO / "tests" / "devtools"):
            continue
        for module, _names in _imports(path):
            assert not any(module == f or module.startswith(f + ".") for f in forbidden), (path, module)
