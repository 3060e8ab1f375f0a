"""`gclogin profiles new` asks gc's questions, in gc's order, with gc's texts (REFERENCE §2).

The login that verifies the answers is replaced by a stub returning a token: these tests
are about the dialogue (the real logins are in test_cli_e2e.py). Each expected transcript
is the whole stdout: prompts, echoed visible answers, and nothing for hidden ones.
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from service import cli as cli_module
from service.config_store import ConfigStore
from service.environments import REGIONS
from service.profiles import GrantType, Profile, TokenData

MENU = ("Select your authorization grant type.\n0. None\n1. Client Credentials\n2. Implicit Grant\n"
        "3. PKCE Grant\n")


@pytest.fixture
def logins(monkeypatch):
    """Stand-in for the verifying login; records the profiles it was asked to verify."""
    seen: list[Profile] = []

    def fake_login(profile, options, echo):
        seen.append(profile)
        return TokenData.issued("verified-token", "bearer", 3600)

    monkeypatch.setattr(cli_module, "login", fake_login)
    monkeypatch.setattr(cli_module, "_who", lambda profile, options: "Test User (test@example.com)")
    return seen


def run(tmp_path, answers: list[str]):
    path = tmp_path / "gc" / "config.toml"
    result = CliRunner().invoke(cli_module.cli, ["--config", str(path), "profiles", "new"],
                                input="\n".join(answers) + "\n")
    return result, ConfigStore(path)


TRANSCRIPTS = {
    "pkce": (
        ["work", "", "", "3", "pkce-id", "8080", "Y", "N", "N"],
        "Profile Name [DEFAULT]: work\n"
        "Environment [mypurecloud.com]: \n"
        "Access Token (Optional): \n"
        + MENU +
        "Grant type: 3\n"
        "Client ID: pkce-id\n"
        "Redirect URI port [0]: 8080\n"
        "Would you like to use a secure HTTP connection? [Y/N]: Y\n"
        "Redirect URI: https://localhost:8080\n"
        "Would you like to use a proxy server? [Y/N]: N\n"
        "Would you like to use a gateway server? [Y/N]: N\n"
        "Profile work saved.\n"
        "Logged in to mypurecloud.com as Test User (test@example.com).\n"),
    "implicit": (
        ["", "eu-west-1", "", "2", "imp-id", "hidden-implicit-secret", "", "N", "N", "N"],
        "Profile Name [DEFAULT]: \n"
        "Environment [mypurecloud.com]: eu-west-1\n"
        "Access Token (Optional): \n"
        + MENU +
        "Grant type: 2\n"
        "Client ID: imp-id\n"
        "Client Secret (Optional): \n"
        "Redirect URI port [0]: \n"
        "Would you like to use a secure HTTP connection? [Y/N]: N\n"
        "Redirect URI: http://localhost:0\n"
        "Would you like to use a proxy server? [Y/N]: N\n"
        "Would you like to use a gateway server? [Y/N]: N\n"
        "Profile DEFAULT saved.\n"
        "Logged in to mypurecloud.ie as Test User (test@example.com).\n"),
    "client credentials, bad region re-asked": (
        ["cc", "xx-nowhere-1", "mypurecloud.de", "", "1", "cc-id", "hidden-cc-secret", "N", "N"],
        "Profile Name [DEFAULT]: cc\n"
        "Environment [mypurecloud.com]: xx-nowhere-1\n"
        f"Error: unknown region 'xx-nowhere-1'; the regions are {', '.join(REGIONS)}\n"
        "Environment [mypurecloud.com]: mypurecloud.de\n"
        "Access Token (Optional): \n"
        + MENU +
        "Grant type: 1\n"
        "Client ID: cc-id\n"
        "Client Secret: \n"
        "Would you like to use a proxy server? [Y/N]: N\n"
        "Would you like to use a gateway server? [Y/N]: N\n"
        "Profile cc saved.\n"
        "Logged in to mypurecloud.de as Test User (test@example.com).\n"),
    "access token, no verification": (
        ["tok", "", "hidden-access-token", "0", "N", "N"],
        "Profile Name [DEFAULT]: tok\n"
        "Environment [mypurecloud.com]: \n"
        "Access Token (Optional): \n"
        + MENU +
        "Grant type: 0\n"
        "Would you like to use a proxy server? [Y/N]: N\n"
        "Would you like to use a gateway server? [Y/N]: N\n"
        "Profile tok saved.\n"),
}


@pytest.mark.parametrize("answers, transcript", TRANSCRIPTS.values(), ids=TRANSCRIPTS.keys())
def test_profiles_new_asks_gc_questions_in_order(tmp_path, logins, answers, transcript):
    result, _ = run(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert result.stdout == transcript
    assert not any(a.startswith("hidden-") and a in result.output for a in answers)


def test_answers_are_saved_under_gc_keys(tmp_path, logins):
    result, store = run(tmp_path, TRANSCRIPTS["implicit"][0])
    assert result.exit_code == 0, result.output
    saved = store.get("DEFAULT")
    assert (saved.grant_type, saved.client_id, saved.client_secret, saved.environment, saved.redirect_uri) == (
        GrantType.IMPLICIT, "imp-id", "hidden-implicit-secret", "mypurecloud.ie", "http://localhost:0")
    assert saved.token_data.access_token == "verified-token"
    assert [p.client_id for p in logins] == ["imp-id"]  # verified before saving
    assert "prefer the PKCE grant" in result.stderr  # R6


def test_existing_profile_is_asked_about_last_as_gc_does(tmp_path, logins):
    run(tmp_path, TRANSCRIPTS["access token, no verification"][0])
    before = (tmp_path / "gc" / "config.toml").read_bytes()
    result, _ = run(tmp_path, ["tok", "", "other-token", "0", "N", "N", "N"])
    assert result.stdout.endswith(
        "Would you like to use a gateway server? [Y/N]: N\n"
        "Profile name tok already exists. Overwrite (Y/N): N\n")
    assert result.exit_code == 1 and "Profile tok not saved." in result.stderr
    assert (tmp_path / "gc" / "config.toml").read_bytes() == before


def test_proxy_answers_are_kept_under_gc_keys(tmp_path, logins):
    answers = ["px", "", "tok", "0", "Y", "http", "proxy.example", "3128", "pxuser", "hidden-proxy-pass",
               "Y", "/login", "/other", "N"]
    result, store = run(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "Proxy password: \n" in result.stdout and "hidden-proxy-pass" not in result.output
    extra = store.get("px").extra
    assert extra["proxy_host"] == "proxy.example" and extra["proxy_port"] == "3128"
    assert extra["proxy_password"] == "hidden-proxy-pass"
    assert extra["proxy_pathparams"] == "{login: /login, other: /other}"
    assert "hidden-proxy-pass" not in repr(store.get("px"))


def test_the_port_prompt_says_what_the_port_must_match_and_warns_about_zero(tmp_path, logins):
    result, _ = run(tmp_path, TRANSCRIPTS["implicit"][0])  # port 0
    assert result.exit_code == 0, result.output
    assert ("The port must match a redirect URI registered on the OAuth client: http://localhost:PORT "
            "(https://localhost:PORT with a secure connection).\n") in result.stderr
    assert ("Port 0 picks a random port at login time; Genesys matches the port exactly, so this works only "
            "if the client accepts any port.\n") in result.stderr


def test_a_chosen_port_gets_no_port_zero_warning(tmp_path, logins):
    result, _ = run(tmp_path, TRANSCRIPTS["pkce"][0])  # port 8080
    assert result.exit_code == 0, result.output
    assert "must match a redirect URI" in result.stderr and "Port 0" not in result.stderr


@pytest.fixture(scope="module")
def mock_with_ports(tmp_path_factory):
    """The mock (default seed, exact matching) with one more registered loopback port."""
    from mock_idp import create_app
    from mock_idp.testing import add_redirect_uris
    from devtools.servers import free_port, wsgi_server

    extra = free_port()
    app = create_app({"DB": str(tmp_path_factory.mktemp("idp") / "idp.sqlite3")})
    add_redirect_uris(app, f"http://localhost:{extra}")
    with wsgi_server(app) as url:
        yield url, extra


SEED_PKCE = "83077448-22f4-4b92-8051-44c69b08993c"


def test_the_port_prompt_offers_the_ports_the_mock_knows(tmp_path, logins, mock_with_ports):
    """An environment given as a URL is asked which ports the client has (the mock's error
    page for an unregistered redirect URI lists them); the first is the default."""
    url, extra = mock_with_ports
    result, store = run(tmp_path, ["work", url, "", "3", SEED_PKCE, "", "N", "N", "N"])
    assert result.exit_code == 0, result.output
    import tomllib

    from mock_idp.config import default_seed_path
    from service import registered_loopback_ports

    seeded = next(c for c in tomllib.loads(default_seed_path().read_text())["clients"] if c["id"] == SEED_PKCE)
    listed = registered_loopback_ports([*seeded["registered_redirect_uri"], f"http://localhost:{extra}"])
    assert extra in listed
    assert (f"The IdP lists this client's loopback redirect ports: {', '.join(map(str, listed))}.\n"
            in result.stderr)
    assert f"Redirect URI port [{listed[0]}]: \n" in result.stdout and "Port 0" not in result.stderr
    assert store.get("work").redirect_uri == f"http://localhost:{listed[0]}"


def test_an_unknown_client_offers_no_ports(tmp_path, logins, mock_with_ports):
    url, _ = mock_with_ports
    result, _ = run(tmp_path, ["work", url, "", "3", "no-such-client", "", "N", "N", "N"])
    assert result.exit_code == 0 and "lists this client's" not in result.stderr
    assert "Redirect URI port [0]: \n" in result.stdout


def test_a_genesys_domain_is_not_asked_for_ports(monkeypatch):
    """A real org never tells, so the question sends nothing there."""
    import service.preflight

    def no_request(*args, **kwargs):
        raise AssertionError("asked a Genesys org for ports")

    monkeypatch.setattr(service.preflight, "client_ports", no_request)
    assert cli_module._known_ports("mypurecloud.ie", GrantType.PKCE, "id", False) == ((), False)
