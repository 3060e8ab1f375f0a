"""The text of `gclogin auth status` and the login line, from values (no I/O)."""
from datetime import datetime, timedelta, UTC

from hypothesis import given, strategies as st

from service.auth_status import (DEFAULT_ENVIRONMENT_LABEL, describe_token, describe_user, logged_in_as,
                                 login_line, status_lines, value_source)
from service.profiles import GrantType, Profile, TokenData

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def token(minutes: int) -> TokenData:
    return TokenData(access_token="t", token_type="bearer", expires_in=60 * minutes,
                     expiry=NOW + timedelta(minutes=minutes))


def test_sources_follow_gcs_order_flag_then_variable_then_profile():
    env = {"GENESYSCLOUD_REGION": "mypurecloud.ie", "GENESYSCLOUD_OAUTHCLIENT_ID": ""}
    assert value_source("environment", {"environment": "x"}, env) == "flag --environment"
    assert value_source("environment", {}, env) == "GENESYSCLOUD_REGION"
    assert value_source("client_id", {}, env) == "profile"  # empty variables count as unset
    assert value_source("access_token", {}, {"GENESYSCLOUD_ACCESS_TOKEN": "a"}) == "GENESYSCLOUD_ACCESS_TOKEN"


def test_token_descriptions():
    assert describe_token(Profile(), NOW) == "none (not logged in)"
    assert describe_token(Profile(token_data=token(60)), NOW) == "valid until 2026-12-07T13:00:00Z"
    assert describe_token(Profile(token_data=token(-5)), NOW) == "expired at 2026-12-07T11:55:00Z"
    assert describe_token(Profile(access_token="a"), NOW) == "an access token given (expiry unknown)"


def test_who_the_token_belongs_to():
    cc = Profile(grant_type=GrantType.CLIENT_CREDENTIALS, client_id="cid", token_data=token(60))
    assert logged_in_as(cc, None, now=NOW) == "client credentials (client cid)"
    pkce = Profile(grant_type=GrantType.PKCE, client_id="p", token_data=token(60))
    assert logged_in_as(pkce, {"name": "Alice", "email": "alice@example.com"}, now=NOW) == \
        "Alice (alice@example.com)"
    assert logged_in_as(pkce, None, problem="server down", now=NOW) == "unknown (server down)"
    assert logged_in_as(Profile(grant_type=GrantType.PKCE, token_data=token(-1)), None, now=NOW) == \
        "nobody (no valid token)"


def test_status_block_names_each_value_and_its_source():
    profile = Profile(name="work", grant_type=GrantType.PKCE, client_id="pid",
                      redirect_uri="http://localhost:8080", token_data=token(30))
    lines = status_lines(profile, flags={"client_id": "pid"}, env={}, who="Alice (a@x)", now=NOW)
    assert lines == ["work",
                     f"  environment: {DEFAULT_ENVIRONMENT_LABEL} (profile)",
                     "  grant: 3. PKCE Grant",
                     "  client ID: pid (flag --clientid)",
                     "  redirect URI: http://localhost:8080",
                     "  logged in as: Alice (a@x)",
                     "  token: valid until 2026-12-07T12:30:00Z"]


def test_status_never_shows_secrets():
    profile = Profile(grant_type=GrantType.CLIENT_CREDENTIALS, client_id="c", client_secret="s3cr3t-value",
                      access_token="tok-value", token_data=TokenData.issued("cached-value", "bearer", 60))
    text = "\n".join(status_lines(profile, flags={}, env={}, who="x"))
    assert "s3cr3t-value" not in text and "tok-value" not in text and "cached-value" not in text
    assert "client secret: set (profile)" in text


def test_login_line():
    assert login_line("mypurecloud.ie", "Alice (alice@example.com)") == \
        "Logged in to mypurecloud.ie as Alice (alice@example.com)"
    assert login_line("", "x") == f"Logged in to {DEFAULT_ENVIRONMENT_LABEL} as x"


@given(st.dictionaries(st.sampled_from(["name", "email", "username", "id"]), st.text(min_size=1, max_size=20)))
def test_describe_user_always_gives_a_name(me):
    text = describe_user(me)
    assert text
    if me.get("email") and me.get("name") and me["email"] != me["name"]:
        assert text == f"{me['name']} ({me['email']})"
