"""The shared hardening headers: each page kind gets exactly the policy it had."""
from __future__ import annotations

from hypothesis import given, strategies as st

from service.security_headers import content_security_policy, security_headers

NONCES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1)


def _directives(csp: str) -> dict[str, str]:
    return dict(d.split(" ", 1) for d in csp.split("; "))


@given(NONCES)
def test_loopback_policy_allows_only_nonced_inline_script_and_style(nonce):
    assert _directives(content_security_policy(nonce)) == {
        "default-src": "'none'", "script-src": f"'nonce-{nonce}'", "style-src": f"'nonce-{nonce}'",
        "form-action": "'self'", "frame-ancestors": "'none'", "base-uri": "'none'"}


@given(NONCES, st.lists(st.sampled_from(["http://127.0.0.1:8081", "https://login.example"]), unique=True))
def test_web_policy_adds_own_assets_and_form_origins(nonce, origins):
    got = _directives(content_security_policy(nonce, own_assets=True, form_action=["'self'", *origins]))
    assert got == {
        "default-src": "'none'", "script-src": f"'nonce-{nonce}'", "style-src": f"'self' 'nonce-{nonce}'",
        "img-src": "'self'", "form-action": " ".join(["'self'", *origins]),
        "frame-ancestors": "'none'", "base-uri": "'none'"}


def test_without_scripts_or_forms_nothing_runs_and_nothing_submits():
    got = _directives(content_security_policy("n", scripts=False, form_action=[]))
    assert "script-src" not in got and got["default-src"] == "'none'"
    assert got["form-action"] == "'none'"


def test_no_store_is_the_default_and_can_be_dropped_for_static_files():
    cached = security_headers("x", no_store=False)
    assert security_headers("x") == {**cached, "Cache-Control": "no-store", "Pragma": "no-cache"}
    assert cached == {"Content-Security-Policy": "x", "Referrer-Policy": "no-referrer",
                      "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}
