"""The suite's own machinery: target selection, the report, and requirement coverage."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conformance.report import FAIL, NOT_RUN, PASS, Outcome, render_markdown, summarise
from tests.conformance.requirements import REQUIREMENTS, requirement_of
from tests.conformance.targets import TargetError, target_from_env


@pytest.mark.parametrize("env, message", [
    ({"CONFORMANCE_WEB_URL": "http://web:8080"}, "CONFORMANCE_IDP_URL"),
    ({"CONFORMANCE_IDP_URL": "idp:8081"}, "CONFORMANCE_IDP_URL"),
    ({"GENESYSCLOUD_REGION": "eu-west-1", "GENESYSCLOUD_OAUTHCLIENT_ID": "x"}, "GENESYSCLOUD_OAUTHCLIENT_SECRET"),
    ({"GENESYSCLOUD_REGION": "xx-nowhere-9", "GENESYSCLOUD_OAUTHCLIENT_ID": "x",
      "GENESYSCLOUD_OAUTHCLIENT_SECRET": "y"}, "GENESYSCLOUD_REGION"),
])
def test_bad_target_variables_are_named(env, message):
    with pytest.raises(TargetError, match=message):
        target_from_env(env)


def test_targets_from_variables():
    assert target_from_env({}).kind == "in-process"
    stack = target_from_env({"CONFORMANCE_IDP_URL": "http://idp:8081/", "CONFORMANCE_WEB_URL": "http://web:8080"})
    assert (stack.kind, stack.login_url, stack.web_url) == ("stack", "http://idp:8081", "http://web:8080")
    org = target_from_env({"GENESYSCLOUD_REGION": "eu-west-1", "GENESYSCLOUD_OAUTHCLIENT_ID": "id",
                           "GENESYSCLOUD_OAUTHCLIENT_SECRET": "sec"})
    assert (org.kind, org.login_url, org.api_url) == ("real-org", "https://login.mypurecloud.ie",
                                                       "https://api.mypurecloud.ie")
    assert "sec" not in repr(org)


def test_summary_fails_on_any_failure_and_never_calls_not_run_a_pass():
    outcomes = [Outcome("R1", "a", "t", PASS, ""), Outcome("R1", "b", "t", FAIL, "boom"),
                Outcome("R2", "c", "t", NOT_RUN, "needs a person"), Outcome("R3", "d", "t", PASS, ""),
                Outcome("R3", "e", "t", NOT_RUN, "x")]
    assert summarise(outcomes) == {"R1": FAIL, "R2": NOT_RUN, "R3": "PASS (1 not run)"}
    text = render_markdown(outcomes, "in-process")
    assert "| R2 | `c` | t | NOT RUN | needs a person |" in text
    assert "| R4 |" in text and "NO TEST" in text


def test_every_requirement_has_a_test():
    names = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and requirement_of(node.name):
                names.add(requirement_of(node.name))
    assert names == set(REQUIREMENTS)
