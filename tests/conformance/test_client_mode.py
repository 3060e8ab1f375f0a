"""Client mode proven discriminating (gclogin's shipped profile passing every client check
is tests/conformance/test_clientmode_*.py, the self-check): a stand-in that behaves like gc
fails the checks gc fails (no state, the token in a URL path, all interfaces, Basic auth not
form-urlencoded, no timeout); a deliberately defective client fails exactly the checks each
defect breaks, with a readable reason. Each run is `gclogin-conformance client PROFILE`."""
from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.standin_client import DEFECTS
from tests.conformance.test_defective_server import outcomes

pytestmark = pytest.mark.slow
STANDIN = Path(__file__).with_name("standin_client.py")
SHIPPED = Path(__file__).resolve().parents[2] / "gclogin_conformance" / "profiles"
ALL_CHECKS = {
    "test_R1_authorize_request_carries_state", "test_R20_state_long_enough_and_distinct",
    "test_R20_client_stops_on_wrong_state[forged_state]", "test_R20_client_stops_on_wrong_state[missing_state]",
    "test_R21_client_stops_on_replayed_state", "test_R18_listens_on_loopback_only",
    "test_R19_port_closed_after_the_login[normal]", "test_R19_port_closed_after_the_login[error_markup]",
    "test_R5_loopback_pages_load_nothing_third_party_and_set_csp", "test_R2_token_type_case_insensitive[BEARER]",
    "test_R2_token_type_case_insensitive[Bearer]", "test_R2_unknown_token_type_refused",
    "test_R2_missing_expires_in_handled", "test_R3_error_description_not_rendered_as_markup",
    "test_R22_token_never_in_a_url", "test_R25_no_secrets_in_output[implicit]", "test_R28_token_file_private",
}
#: the checks of issue 16; only the defect-free run and the runs of their own defects run them
NEW_CHECKS = {"test_R8_basic_auth_form_urlencodes_id_and_secret", "test_R26_client_refuses_another_issuer",
              "test_R29_fresh_key_per_login", "test_R29_certificate_valid_only_for_the_login",
              "test_R19_port_closed_after_a_timeout"}
NEW_ONLY = "test_R8_ or test_R26_ or test_R29_ or after_a_timeout"
PKCE_CHECKS = {"test_R14_challenge_is_S256_of_the_verifier", "test_R13_verifier_length_and_alphabet",
               "test_R25_no_secrets_in_output[pkce]"}
WRONG_STATE = {"test_R20_client_stops_on_wrong_state[forged_state]",
               "test_R20_client_stops_on_wrong_state[missing_state]", "test_R21_client_stops_on_replayed_state"}
LINGER = {"test_R19_port_closed_after_the_login[normal]", "test_R19_port_closed_after_the_login[error_markup]",
          # a client still running when the login is over has not succeeded either
          "test_R2_token_type_case_insensitive[BEARER]", "test_R2_token_type_case_insensitive[Bearer]",
          "test_R2_missing_expires_in_handled", "test_R3_error_description_not_rendered_as_markup",
          "test_R28_token_file_private"}
#: defect of the stand-in (flags mode) → the checks that must fail, and no others
BREAKS = {
    "none": set(),
    "no_state": {"test_R1_authorize_request_carries_state", "test_R20_state_long_enough_and_distinct", *WRONG_STATE},
    "ignore_state": WRONG_STATE,
    "fixed_state": {"test_R20_state_long_enough_and_distinct", "test_R21_client_stops_on_replayed_state"},
    "short_state": {"test_R20_state_long_enough_and_distinct"},
    "all_interfaces": {"test_R18_listens_on_loopback_only"},
    "linger": LINGER,
    "token_in_path": {"test_R22_token_never_in_a_url"},
    "markup": {"test_R3_error_description_not_rendered_as_markup"},
    "any_token_type": {"test_R2_unknown_token_type_refused"},
    "strict_expires_in": {"test_R2_missing_expires_in_handled"},
    "case_sensitive_token_type": {"test_R2_token_type_case_insensitive[BEARER]",
                                  "test_R2_token_type_case_insensitive[Bearer]"},
    "print_token": {"test_R25_no_secrets_in_output[implicit]", "test_R25_no_secrets_in_output[pkce]"},
    "short_verifier": {"test_R13_verifier_length_and_alphabet"},
    "wrong_challenge": {"test_R14_challenge_is_S256_of_the_verifier"},
    "world_readable": {"test_R28_token_file_private"},
    "third_party": {"test_R5_loopback_pages_load_nothing_third_party_and_set_csp"},
    "raw_basic": {"test_R8_basic_auth_form_urlencodes_id_and_secret"},
    "ignore_iss": {"test_R26_client_refuses_another_issuer"},
    "reused_key": {"test_R29_fresh_key_per_login"},
    "long_cert": {"test_R29_certificate_valid_only_for_the_login"},
    "orphan_listener": {"test_R19_port_closed_after_a_timeout"},
}
#: gc's login is implicit over plain HTTP here: R26 (iss in a PKCE response) and R29 are not run
GC_FAILS = {"test_R1_authorize_request_carries_state", "test_R20_state_long_enough_and_distinct", *WRONG_STATE,
            "test_R22_token_never_in_a_url", "test_R18_listens_on_loopback_only",
            "test_R8_basic_auth_form_urlencodes_id_and_secret", "test_R19_port_closed_after_a_timeout"}


def run_client(profile: Path, out: Path, env: dict[str, str] | None = None,
               select: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    done = subprocess.run([sys.executable, "-m", "gclogin_conformance", "--out", str(out), "client", str(profile),
                           "-q", "-p", "no:randomly", *select], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    return done, outcomes(out / "conformance.xml")


def failed(results: dict[str, str]) -> set[str]:
    return {name for name, kind in results.items() if kind in ("failure", "error")}


def profile_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text.replace("STANDIN", str(STANDIN)))
    return path


def test_gc_standin_fails_what_gc_fails(tmp_path):
    """The shipped gc profile (prompts + GENESYSCLOUD_BROWSER) with `command` pointed at the stand-in."""
    text = (SHIPPED / "gc.toml").read_text().replace('command = ["gc", "profiles", "new"]',
                                                     'command = ["{python}", "STANDIN", "gc"]')
    done, results = run_client(profile_file(tmp_path, text), tmp_path / "out")
    assert failed(results) == GC_FAILS, done.stdout[-3000:]
    assert done.returncode != 0
    report = (tmp_path / "out" / "conformance.md").read_text()
    assert "no state" in report and "listening on 0.0.0.0" in report
    assert "/access_token/<token>" in report
    assert "read back wrong (the ID reads back as 'cf')" in report and "still waiting" in report


#: defects whose checks are disjoint and which do not mask each other share one run (the
#: matrix stays near three minutes); the ones that overlap others run alone. Masking seen:
#: any_token_type hides case_sensitive_token_type; a PKCE login broken by short_verifier or
#: wrong_challenge issues no token for print_token to print.
SHARED = ("short_state", "all_interfaces", "token_in_path", "markup", "strict_expires_in",
          "case_sensitive_token_type", "print_token", "world_readable", "third_party")
SHARED_PKCE = ("any_token_type", "short_verifier", "wrong_challenge")
#: the defects of issue 16, run only against NEW_CHECKS (disjoint, none masks another)
SHARED_NEW = ("raw_basic", "ignore_iss", "reused_key", "long_cert", "orphan_listener")
RUNS = [("none",), ("no_state",), ("ignore_state",), ("fixed_state",), ("linger",), SHARED, SHARED_PKCE, SHARED_NEW]


def checks_run(defects: tuple[str, ...]) -> set[str]:
    """What a run of the matrix runs: everything without defects, else old or new checks only."""
    if defects == ("none",):
        return ALL_CHECKS | PKCE_CHECKS | NEW_CHECKS
    return NEW_CHECKS if defects == SHARED_NEW else ALL_CHECKS | PKCE_CHECKS


def selection(defects: tuple[str, ...]) -> tuple[str, ...]:
    if defects == ("none",):
        return ()
    return ("-k", NEW_ONLY if defects == SHARED_NEW else f"not ({NEW_ONLY})")


def test_every_defect_is_listed_and_shared_ones_are_disjoint():
    assert set(BREAKS) - {"none"} == set(DEFECTS)
    assert all(BREAKS[d] <= NEW_CHECKS for d in SHARED_NEW)
    assert not any(BREAKS[d] & NEW_CHECKS for d in set(BREAKS) - set(SHARED_NEW))
    assert {d for run in RUNS for d in run} == set(BREAKS)
    for group in (SHARED, SHARED_PKCE, SHARED_NEW):
        shared = [BREAKS[d] for d in group]
        assert all(shared) and sum(map(len, shared)) == len(set().union(*shared))


def _matrix_profile(tmp: Path) -> Path:
    path = tmp / "defective.toml"
    path.write_text(
        f'command = ["{{python}}", "{STANDIN}", "flags", "--environment", "{{environment}}", "--client-id",\n'
        '           "{client_id}", "--port", "{port}", "--config", "{config}", "--grant", "{grant}",\n'
        '           "--timeout", "{timeout}", "{https}"]\n'
        'token_file = "{config}"\ngrants = ["implicit", "pkce"]\n'
        'https = {on = "--https", off = "--no-https"}\n'
        f'[client_credentials]\ncommand = ["{{python}}", "{STANDIN}", "flags", "--environment", "{{environment}}",\n'
        '           "--client-id", "{client_id}", "--config", "{config}", "--grant", "client-credentials"]\n'
        'env = {GENESYSCLOUD_OAUTHCLIENT_SECRET = "{client_secret}"}\n')
    return path


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> dict[tuple[str, ...], tuple[subprocess.CompletedProcess, dict[str, str], str]]:
    """Every run of the defective client, two at a time (each mostly waits on the client and the browser)."""
    tmp = tmp_path_factory.mktemp("matrix")
    profile = _matrix_profile(tmp)

    def one(defects: tuple[str, ...]):
        out = tmp / "+".join(defects)
        done, results = run_client(profile, out, {"STANDIN_DEFECTS": ",".join(d for d in defects if d != "none")},
                                   selection(defects))
        return defects, (done, results, (out / "conformance.md").read_text())

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, RUNS))


@pytest.mark.parametrize("defects", RUNS, ids="+".join)
def test_defective_client_fails_exactly_its_checks(matrix, defects):
    done, results, report = matrix[defects]
    expected = set().union(*(BREAKS[d] for d in defects))
    assert set(results) == checks_run(defects), done.stdout[-2000:]
    assert failed(results) == expected, done.stdout[-3000:]
    assert (done.returncode != 0) == bool(expected)
    for name in failed(results):  # each failure explains itself
        start = report.index(f"`{name}`")
        assert "expected:" in report[start:start + 2000] and "actual:" in report[start:start + 2000]
    assert "AssertionError" not in report
