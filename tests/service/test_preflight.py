"""The authorize request sent before the browser opens (service.preflight; issue 19).

An unreachable IdP, an unknown client and an unregistered redirect URI each end the
login with one line before any browser is started; a sign-in page, a redirect or a 5xx
let it go on; and the check uses up nothing at the mock (R4: error pages never redirect).
"""
from __future__ import annotations

import socket
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import given, strategies as st

from service.environments import Endpoints
from service.errors import AuthorizeRefusedError, LoginCancelledError, NetworkError
from service.loopback import browser_login
from service.preflight import MAX_REASON, parse_ports, read_error_page, refusal, check_authorize
from service.profiles import GrantType

PKCE_ID = "83077448-22f4-4b92-8051-44c69b08993c"  # the demo seed's: ports 8080 and 8090
STATE = "preflight-state-not-for-messages"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def authorize_url(base: str, client_id: str = PKCE_ID, port: int = 8080, **extra: str) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": f"http://localhost:{port}",
             "state": STATE, "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
             "code_challenge_method": "S256", **extra}
    return f"{base}/oauth/authorize?{urlencode(query)}"


# --- reading an error page (pure) ------------------------------------------------------------

def test_the_error_element_is_the_reason_and_markup_is_never_shown():
    page = read_error_page('<html><head><title>T</title><script>evil()</script></head><body><h1>Oops</h1>'
                           '<p id="error">Unknown <b>client</b>.</p><p>Other text</p></body></html>')
    assert page.reason == "Unknown client."


def test_without_an_error_element_the_visible_text_is_the_reason():
    page = read_error_page("<html><head><style>p{}</style></head><body><h1>Bad request</h1>\n"
                           "<p>invalid   redirect_uri</p><script>x()</script></body></html>")
    assert page.reason == "Bad request invalid redirect_uri"


def test_the_registered_ports_are_read_from_the_page():
    page = read_error_page('<p id="error">Redirect URI not supported.</p>'
                           '<p id="registered-ports" data-ports="8090 8080 x 70000" data-any-port="false">…</p>')
    assert (page.ports, page.any_port) == ((8080, 8090), False)


@pytest.mark.parametrize("status", [200, 204, 302, 303, 500, 503])
def test_sign_in_pages_redirects_and_server_errors_go_on(status):
    assert refusal(status, b'<p id="error">whatever</p>') is None


def test_a_4xx_without_text_names_its_status():
    assert refusal(404, b"").reason == "HTTP 404"


def test_control_characters_in_the_page_never_reach_the_line():
    page = refusal(400, '<p id="error">bad\x1b]0;pwned\x07 client\u202e</p>'.encode())
    line = str(AuthorizeRefusedError("https://login.example", page.reason))
    assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
    assert line.startswith("the login server https://login.example refused this login before the browser "
                           "opened: bad?]0;pwned? client?")


@given(st.text(max_size=2000))
def test_any_page_gives_a_short_reason_without_raising(html):
    page = read_error_page(html)
    assert len(page.reason) <= MAX_REASON + 1 and "\n" not in page.reason


@given(st.lists(st.integers(min_value=-5, max_value=70000)))
def test_parsed_ports_are_sorted_unique_and_valid(numbers):
    ports = parse_ports(" ".join(map(str, numbers)))
    assert list(ports) == sorted(set(ports)) and all(1 <= p <= 65535 for p in ports)
    assert set(ports) == {n for n in numbers if 1 <= n <= 65535}


# --- against a closed port and the mock -----------------------------------------------------

def test_an_unreachable_idp_is_one_line_naming_its_origin_not_the_url():
    port = closed_port()
    with pytest.raises(NetworkError) as caught:
        check_authorize(authorize_url(f"http://127.0.0.1:{port}"))
    assert str(caught.value).startswith(f"cannot reach http://127.0.0.1:{port}: ")
    assert STATE not in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_client_is_refused_with_the_pages_words(genesys_mock):
    with pytest.raises(AuthorizeRefusedError) as caught:
        check_authorize(authorize_url(genesys_mock.base_url, client_id="no-such-client"))
    assert str(caught.value) == (f"the login server {genesys_mock.base_url} refused this login before the "
                                 "browser opened: Unknown client: the 'client_id' is not a registered OAuth client.")


def test_an_unregistered_port_is_refused_and_the_registered_ports_are_named(genesys_mock):
    with pytest.raises(AuthorizeRefusedError) as caught:
        check_authorize(authorize_url(genesys_mock.base_url, port=8123))
    assert caught.value.ports == (8080, 8090) and not caught.value.any_port
    assert "http://localhost:8123 is not supported" in str(caught.value).replace("'", "")
    assert str(caught.value).endswith("(the client's registered loopback redirect ports: 8080, 8090)")
    assert STATE not in str(caught.value)


def test_the_mock_lists_no_ports_for_an_unknown_client(genesys_mock):
    page = requests.get(authorize_url(genesys_mock.base_url, client_id="no-such-client", port=8123), timeout=15)
    assert page.status_code == 400 and "registered-ports" not in page.text and "8080" not in page.text


def test_a_valid_request_goes_on_and_uses_up_nothing(genesys_mock):
    genesys_mock.next_login("alice@example.com", client_id=PKCE_ID)
    url = authorize_url(genesys_mock.base_url)
    assert check_authorize(url) is None
    # the scripted sign-in is still there for the browser's own request
    browser = requests.get(url, allow_redirects=False, timeout=15)
    assert browser.status_code == 302 and browser.headers["Location"].startswith("http://localhost:8080?code=")


def test_a_prefetch_of_a_valid_request_stores_no_pending_login(genesys_mock):
    answer = requests.get(authorize_url(genesys_mock.base_url), headers={"Sec-Purpose": "prefetch"},
                          allow_redirects=False, timeout=15)
    assert answer.status_code == 204 and "set-cookie" not in answer.headers
    page = requests.get(authorize_url(genesys_mock.base_url), timeout=15)  # a browser: the form
    assert page.status_code == 200 and 'id="login"' in page.text


def _cli_login(endpoints: Endpoints, client_id: str, port: int, lines: list[str]) -> None:
    browser_login(grant=GrantType.PKCE, client_id=client_id, redirect_uri=f"http://localhost:{port}",
                  endpoints=endpoints, timeout=300, open_browser=True, echo=lines.append,
                  env={"GENESYSCLOUD_BROWSER": "/nonexistent/should-never-start"})


def test_the_cli_login_stops_before_the_browser_for_an_unreachable_idp():
    base = f"http://127.0.0.1:{closed_port()}"
    lines: list[str] = []
    with pytest.raises(NetworkError, match=f"^cannot reach {base}: "):
        _cli_login(Endpoints("x", base, base), PKCE_ID, 0, lines)
    assert lines == []  # no URL printed, no browser tried


@pytest.mark.parametrize(("client_id", "port", "expected"), [
    ("no-such-client", 0, "Unknown client"),
    (PKCE_ID, 0, "registered loopback redirect ports: 8080, 8090"),
])
def test_the_cli_login_stops_before_the_browser_at_an_error_page(genesys_mock, client_id, port, expected):
    base = genesys_mock.base_url
    lines: list[str] = []
    with pytest.raises(AuthorizeRefusedError, match=expected):
        _cli_login(Endpoints("x", base, base), client_id, port, lines)
    assert lines == []


@pytest.mark.slow
def test_a_browser_that_cannot_start_is_reported_then_the_url_printed(genesys_mock):
    """Issue 19: the failure first, then the URL to open by hand; the login waits on."""
    import threading
    base = genesys_mock.base_url
    lines: list[str] = []
    done = threading.Event()

    def echo(line: str) -> None:
        lines.append(line)
        if line.startswith("Open this URL in your browser to log in: "):
            done.set()
            raise KeyboardInterrupt  # stop the login here: the order is what this test is about

    with pytest.raises(LoginCancelledError):
        browser_login(grant=GrantType.PKCE, client_id=PKCE_ID, redirect_uri="http://localhost:8090",
                      endpoints=Endpoints("x", base, base), timeout=30, open_browser=True, echo=echo,
                      env={"GENESYSCLOUD_BROWSER": "/nonexistent/browser"})
    assert done.is_set()
    assert lines[-2] == ("Could not start the browser program '/nonexistent/browser' (GENESYSCLOUD_BROWSER): "
                         "No such file or directory.")
    assert lines[-1].startswith(f"Open this URL in your browser to log in: {base}/oauth/authorize?")


def test_profiles_new_with_an_unregistered_port_fails_in_one_line_naming_the_ports(genesys_mock, tmp_path):
    from click.testing import CliRunner

    from service import cli

    config = tmp_path / "config.toml"
    result = CliRunner().invoke(cli.cli, [
        "--config", str(config), "profiles", "new", "--name", "p", "--environment", genesys_mock.base_url,
        "--grant-type", "pkce", "--client-id", PKCE_ID, "--redirect-port", "8123", "--no-https", "--yes"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"Error: The credentials could not be checked: the login server "
                                f"{genesys_mock.base_url} refused this login before the browser opened: ")
    assert lines[-1].endswith("(the client's registered loopback redirect ports: 8080, 8090). Nothing was saved.")
    assert "Open this URL" not in result.output and not config.exists()


def test_login_with_an_unreachable_environment_fails_in_one_line(tmp_path):
    from click.testing import CliRunner

    from service import cli

    from service.config_store import ConfigStore
    from service.profiles import Profile

    base = f"http://127.0.0.1:{closed_port()}"
    config = tmp_path / "config.toml"
    ConfigStore(config).save(Profile(name="DEFAULT", grant_type=GrantType.PKCE, client_id=PKCE_ID,
                                     environment=base, redirect_uri="http://localhost:0"))
    result = CliRunner().invoke(cli.cli, ["--config", str(config), "login", "--no-browser"])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: cannot reach {base}: ")
    assert "oauth/authorize" not in result.output
