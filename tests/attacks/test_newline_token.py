"""Point 2: a token with a trailing newline (the usual copy-paste or CI-secret accident) must
work, and one with a control character inside must be refused naming the field, never quoting
the value: http.client's "Invalid header value b'Bearer tok-SECRET\\n'" never reaches a user."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from mock_idp.testing import issue_token
from service import api
from service.cli import cli
from service.environments import resolve
from service.errors import InvalidValueError, NetworkError
from service.logins import Overrides
from service.profiles import Profile, TokenData
from service.untrusted import clean_secret, has_control
from tests.web.conftest import make_app, write_config

from .conftest import ALICE_ID, PKCE_ID

SECRET = "tok-SECRET"


def test_env_token_with_trailing_newline_works_in_the_cli(idp, cli_env):
    url, app = idp
    token = issue_token(app, PKCE_ID, ALICE_ID)
    result = CliRunner().invoke(cli, ["--environment", url, "users", "me", "get"],
                                env={"GENESYSCLOUD_ACCESS_TOKEN": token + "\n"})
    assert result.exit_code == 0, result.output
    assert "alice@example.com" in result.output


@pytest.mark.parametrize("bad", [f"{SECRET}\nX-Injected: 1", "tok-\rSECRET", "tok\x1b[2JSECRET",
                                 "tok\u202eSECRET"])
def test_env_token_with_a_control_character_inside_is_refused_naming_the_variable(idp, cli_env, bad):
    url, _ = idp
    result = CliRunner().invoke(cli, ["--environment", url, "users", "me", "get"],
                                env={"GENESYSCLOUD_ACCESS_TOKEN": bad + "\n"})
    assert result.exit_code != 0
    assert "GENESYSCLOUD_ACCESS_TOKEN" in result.output and "control character" in result.output
    assert "SECRET" not in result.output


def test_flag_token_with_a_newline_inside_is_refused_naming_the_flag(idp, cli_env):
    url, _ = idp
    result = CliRunner().invoke(cli, ["--environment", url, "--accesstoken", f"{SECRET}\nX: 1",
                                      "users", "me", "get"])
    assert result.exit_code == 2
    assert "--accesstoken" in result.output and "SECRET" not in result.output


def test_profile_token_in_the_file_is_stripped_or_refused(idp, cli_env):
    url, app = idp
    token = issue_token(app, PKCE_ID, ALICE_ID)
    cli_env.parent.mkdir(mode=0o700)
    cli_env.write_text(f'[ok]\nenvironment = "{url}"\naccess_token = "{token}\\n"\n\n'
                       f'[bad]\nenvironment = "{url}"\naccess_token = "{SECRET}\\u0007x"\n')
    cli_env.chmod(0o600)
    ok = CliRunner().invoke(cli, ["-p", "ok", "users", "me", "get"])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(cli, ["-p", "bad", "users", "me", "get"])
    assert bad.exit_code == 1
    assert "access_token: contains a control character" in bad.output and "SECRET" not in bad.output


def test_a_header_http_refuses_never_quotes_it():
    """The last line of defence: whatever http.client refuses while building a request."""
    with pytest.raises(NetworkError) as caught:
        api._send("GET", "http://127.0.0.1:9/api/v2/users/me", None,
                  {"Authorization": f"Bearer {SECRET}\n"}, 1.0)
    assert SECRET not in str(caught.value) and "Bearer" not in str(caught.value)


def test_web_me_page_with_a_newline_token(idp, tmp_path):
    url, idp_app = idp
    token = issue_token(idp_app, PKCE_ID, ALICE_ID)
    web = make_app(tmp_path, IDP_URL=url)
    write_config(web, f'[ok]\nenvironment = "{url}"\naccess_token = "{token}\\n"\n\n'
                      f'[bad]\nenvironment = "{url}"\naccess_token = "{SECRET}\\nX: 1"\n')
    client = web.test_client()
    ok = client.get("/profiles/ok/me")
    assert ok.status_code == 200 and "alice@example.com" in ok.get_data(as_text=True)
    bad = client.get("/profiles/bad/me")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "access_token" in page and "SECRET" not in page


def test_overrides_from_env_strip_and_refuse():
    got = Overrides.from_env({"GENESYSCLOUD_OAUTHCLIENT_SECRET": " s3cret\r\n",
                              "GENESYSCLOUD_OAUTHCLIENT_ID": "cid\n"})
    assert (got.client_secret, got.client_id) == ("s3cret", "cid")
    with pytest.raises(InvalidValueError, match="GENESYSCLOUD_OAUTHCLIENT_SECRET") as caught:
        Overrides.from_env({"GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3\x00cret"})
    assert "s3" not in str(caught.value)


secrets = st.text(max_size=60)


@given(secrets, st.sampled_from(["", " ", "\n", "\r\n", "\t "]), st.sampled_from(["", "\n", " \r\n"]))
def test_clean_secret_strips_surroundings_and_refuses_controls_inside(core, before, after):
    raw = before + core + after
    if has_control(core.strip()):
        with pytest.raises(InvalidValueError) as caught:
            clean_secret("field", raw)
        # the message is fixed text: it cannot quote the value
        assert str(caught.value) == "field: contains a control character (value not shown): paste it again"
    else:
        assert clean_secret("field", raw) == core.strip()


def test_every_secret_holder_cleans_on_construction():
    assert Profile(client_secret="s\n", access_token=" t ").client_secret == "s"
    assert TokenData(access_token="t\r\n").access_token == "t"
    with pytest.raises(InvalidValueError, match="client_secret"):
        Profile(client_secret="a\nb")
    assert resolve("http://127.0.0.1:1")  # endpoints unaffected
