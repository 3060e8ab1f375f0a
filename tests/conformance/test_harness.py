"""The suite's own machinery: targets, the credentials file, the reports, requirement coverage."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import requests

import gclogin_conformance
from gclogin_conformance.expect import CheckFailed, expect, redact
from gclogin_conformance.report import (FAIL, NOT_RUN, PASS, Outcome, render_html, render_markdown, summarise,
                                        summary_line)
from gclogin_conformance.requirements import REQUIREMENTS, UNUSED, requirement_of
from gclogin_conformance.targets import TargetError, credentials_from_toml, server_spec, spec_from_env

CHECKS = Path(gclogin_conformance.__file__).parent / "checks"


@pytest.mark.parametrize("env, message", [
    ({"CONFORMANCE_WEB_URL": "http://web:8080"}, "CONFORMANCE_IDP_URL"),
    ({"CONFORMANCE_IDP_URL": "idp:8081"}, "CONFORMANCE_IDP_URL"),
])
def test_bad_target_variables_are_named(env, message):
    with pytest.raises(TargetError, match=message):
        spec_from_env(env)


def test_stack_target_from_variables():
    assert spec_from_env({}).mode == "self-check" and spec_from_env({}).server is None
    stack = spec_from_env({"CONFORMANCE_IDP_URL": "http://idp:8081/", "CONFORMANCE_WEB_URL": "http://web:8080"})
    assert (stack.server.login_url, stack.web_url, stack.server.mock) == ("http://idp:8081", "http://web:8080", True)


@pytest.mark.parametrize("text, message", [
    ("[client_credentials]\nid = 'x'\n", r"\[client_credentials\]\.secret"),
    ("[implicit]\nid = 'x'\nredirect_uri = 'ftp://x'\n", r"\[implicit\]\.redirect_uri"),
    ("[user]\nusername = 'u'\npassword = 'p'\n[user.selectors]\nusername = '#u'\n", "missing password, submit"),
    ("[endpoints]\ntoken = 'oauth/token'\n", r"\[endpoints\]\.token"),
    ("[clients]\n", "unknown table"),
    ("[user\n", "not valid TOML"),
])
def test_bad_credentials_file_names_file_and_field(text, message):
    with pytest.raises(TargetError, match=message) as info:
        credentials_from_toml(text, "creds.toml")
    assert "creds.toml" in str(info.value)


def test_credentials_file_read_and_secrets_not_in_repr(tmp_path):
    path = tmp_path / "creds.toml"
    path.write_text("[client_credentials]\nid = 'cc'\nsecret = 'top-secret-1'\n"
                    "[pkce]\nid = 'pk'\nredirect_uri = 'http://127.0.0.1:9000'\n"
                    "[user]\nusername = 'u'\npassword = 'pw-secret-2'\n[endpoints]\ntoken = '/token'\n")
    spec = server_spec("http://127.0.0.1:1/", credentials=path)
    assert (spec.login_url, spec.token_path, spec.pkce_client.redirect_uri) == ("http://127.0.0.1:1", "/token",
                                                                               "http://127.0.0.1:9000")
    assert "top-secret-1" not in repr(spec) and "pw-secret-2" not in repr(spec)
    with pytest.raises(TargetError, match="client-credentials"):
        server_spec("http://127.0.0.1:1")


def _response(status=200, body="", headers=None, url="http://idp/oauth/token", method="POST", data=None):
    response = requests.Response()
    response.status_code, response._content = status, body.encode()
    response.headers.update(headers or {})
    response.request = requests.Request(method, url, data=data).prepare()
    return response


def test_failures_explain_themselves_and_redact_secrets():
    page = _response(200, '<html><form><input type="password" name="password"></form></html>',
                     {"Content-Type": "text/html"}, url="http://idp/oauth/authorize?client_id=x", method="GET")
    with pytest.raises(CheckFailed) as info:
        expect(False, "a 400 error page without redirect", response=page)
    assert str(info.value) == ("expected: a 400 error page without redirect; actual: the server answered 200 "
                               "with a sign-in page")
    assert "> GET http://idp/oauth/authorize?client_id=x" in info.value.exchange
    token = _response(200, '{"access_token": "eyJ-very-secret", "token_type": "bearer"}',
                      {"Content-Type": "application/json"}, data={"client_secret": "s3cr3t-value"})
    with pytest.raises(CheckFailed) as info:
        expect(False, "no-store", response=token)
    assert "eyJ-very-secret" not in info.value.exchange and "s3cr3t-value" not in info.value.exchange
    assert redact("Authorization: Basic YWJjOmRlZg== code=abc&state=s") == "Authorization: Basic *** code=***&state=s"


def test_summary_fails_on_any_failure_and_never_calls_not_run_a_pass():
    outcomes = [Outcome("R1", "a", "t", PASS, ""), Outcome("R1", "b", "t", FAIL, "boom"),
                Outcome("R2", "c", "t", NOT_RUN, "needs a person"), Outcome("R3", "d", "t", PASS, ""),
                Outcome("R3", "e", "t", NOT_RUN, "x")]
    assert summarise(outcomes) == {"R1": "FAIL (1 of 2)", "R2": NOT_RUN, "R3": "PASS (1 not run)"}
    assert summary_line(outcomes) == "FAIL: 2 passed, 1 failed, 2 not run (5 checks)."


def test_report_sections_failures_first_every_number_listed_unused_named():
    outcomes = [Outcome("R20", "test_R20_ok", "c", PASS, "fine", group="client-profile"),
                Outcome("R20", "test_R20_forged", "c", FAIL, "", "client-profile", "exit status non-zero",
                        "the client exited 0 and saved the profile", "> GET http://127.0.0.1:1/?state=x"),
                Outcome("R12", "test_R12_cache", "s", FAIL, "", "server", "Cache-Control: no-store", "none"),
                Outcome("G1", "test_G1_me", "s", PASS, "", "server")]
    text = render_markdown(outcomes, "example", runner_counts="2 failed, 2 passed")
    client, server = text.index("## Client (judged"), text.index("## Server (authorization")
    assert client < server
    assert "FAIL: 1 passed, 1 failed, 0 not run (2 checks)." in text[client:server]
    assert text[client:server].index("test_R20_forged") < text[client:server].index("test_R20_ok")
    assert "expected: exit status non-zero" in text and "actual: the client exited 0" in text
    for req in REQUIREMENTS:
        assert f"| {req} |" in text[server:]
    assert "R7, R15, R23, R24 are unused" in text and all(f"| {r} | (unused" in text for r in UNUSED)
    page = render_html(outcomes, "<example>", "")
    assert "&lt;example&gt;" in page and "<script" not in page and not re.search(r"(src|href)=", page)


def test_unused_numbers_are_really_unused():
    assert not set(UNUSED) & set(REQUIREMENTS)
    assert [f"R{n}" for n in range(1, 30) if f"R{n}" not in REQUIREMENTS] == list(UNUSED)


def test_every_requirement_has_a_check():
    """The coverage harness: every requirement has at least one check, client or server side."""
    names = set()
    for path in CHECKS.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and requirement_of(node.name):
                names.add(requirement_of(node.name))
    assert names == set(REQUIREMENTS)


def test_every_check_module_is_collected_in_tree():
    """Each package check module has its re-export here, so `make test` runs all of them."""
    here = {p.name for p in Path(__file__).parent.glob("test_*.py")}
    assert {p.name for p in CHECKS.glob("test_*.py")} <= here
