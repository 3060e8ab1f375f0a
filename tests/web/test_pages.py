"""Pages: the profile list, the new-profile form (gc's questions and rules), a profile's page."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from service.config_store import ConfigStore

from .conftest import IDP, write_config
from datetime import UTC


def test_healthz_does_not_touch_the_idp(client):
    resp = client.get("/healthz")  # the IdP URL of the test app is dead
    assert resp.status_code == 200 and resp.json == {"status": "ok"}


def test_index_lists_profiles_with_client_ids_but_no_secrets(app, client):
    write_config(app, '[alpha]\ngrant_type = "1"\nclient_credentials = "client-alpha"\n'
                      'client_secret = "alpha-secret-value"\nenvironment = "mypurecloud.ie"\n'
                      '[beta]\ngrant_type = "0"\naccess_token = "beta-token-value"\n')
    page = client.get("/").get_data(as_text=True)
    assert "alpha" in page and "client-alpha" in page and "mypurecloud.ie" in page
    assert "Client Credentials" in page and "fixed access token" in page
    assert "alpha-secret-value" not in page and "beta-token-value" not in page


def test_index_reports_a_broken_profile_and_keeps_going(app, client):
    write_config(app, '[good]\ngrant_type = "2"\nclient_credentials = "c"\n'
                      '[bad]\ngrant_type = "7"\n')
    resp = client.get("/")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "good" in page
    assert "Profile bad cannot be used" in page and "grant_type" in page


def test_malformed_config_names_file_and_line(app, client):
    write_config(app, "[broken\n")
    resp = client.get("/")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "config.toml" in page and "line 1" in page


def test_new_form_has_gc_fields_labels_and_defaults(client):
    page = client.get("/profiles/new").get_data(as_text=True)
    for field in ("name", "environment", "access_token", "grant_type", "client_id",
                  "client_secret", "redirect_port", "secure_login", "overwrite"):
        assert f'name="{field}"' in page and f'for="{field}"' in page
    assert 'value="DEFAULT"' in page           # gc: Profile Name [DEFAULT]
    assert f'value="{IDP}"' in page             # this deployment's IdP
    assert 'name="redirect_port" min="0" max="65535" value="0"' in page  # gc: port [0]
    for label in ("0. None", "1. Client Credentials", "2. Implicit Grant", "3. PKCE Grant"):
        assert label in page


def test_new_form_defaults_to_gc_environment_without_an_idp(tmp_path):
    from .conftest import make_app

    page = make_app(tmp_path, IDP_URL=None).test_client().get("/profiles/new").get_data(as_text=True)
    # Blank, saying before saving what blank becomes (gc: Environment [mypurecloud.com]).
    assert 'name="environment" value="" placeholder="mypurecloud.com (US East, production)"' in page
    assert "Left blank: mypurecloud.com (US East, production)" in page


@pytest.mark.parametrize("fields, field, message", [
    ({"name": "bad name!"}, "name", "must be 1-64 of"),
    ({"environment": "nowhere"}, "environment", "neither a Genesys domain"),
    ({"environment": "eu-nowhere-9"}, "environment", "unknown region"),
    ({"environment": "http://idp.example:8081/path"}, "environment", "no path"),
    ({"grant_type": "7"}, "grant_type", "unknown grant type"),
    ({"grant_type": "0"}, "grant_type", "only possible with an access token"),
    ({"grant_type": "1", "client_id": ""}, "client_id", "Client ID is required for Client Credentials."),
    ({"grant_type": "1", "client_secret": ""}, "client_secret",
     "Client secret is required for Client Credentials."),
    ({"grant_type": "2", "client_id": ""}, "client_id", "Client ID is required for Implicit Grant."),
    ({"grant_type": "3", "client_id": ""}, "client_id", "Client ID is required for PKCE Grant."),
    ({"grant_type": "3", "redirect_port": "70000"}, "redirect_port", "0-65535"),
    ({"grant_type": "2", "redirect_port": "-1"}, "redirect_port", "0-65535"),
])
def test_new_profile_validation_names_the_field_and_saves_nothing(app, forms, fields, field, message):
    resp = forms.new_profile(**fields)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert f'id="{field}-error"' in page and message in page
    assert f'id="{field}" name="{field}"' in page and 'aria-invalid="true"' in page
    assert not Path(app.config["CONFIG_PATH"]).exists()


def test_form_errors_never_echo_secrets(forms):
    resp = forms.new_profile(name="bad name!", client_secret="do-not-echo-secret",
                             access_token="do-not-echo-token")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "do-not-echo" not in page


def test_new_profile_with_access_token_is_saved_without_login(app, forms, client):
    resp = forms.new_profile(name="tok", grant_type="0", access_token="fixed-token-value")
    assert resp.status_code == 303 and resp.headers["Location"] == "/profiles/tok"
    profile = ConfigStore(app.config["CONFIG_PATH"]).get("tok")
    assert profile.access_token == "fixed-token-value"
    path = Path(app.config["CONFIG_PATH"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    page = client.get("/profiles/tok").get_data(as_text=True)
    assert "fixed-token-value" not in page and "********" in page


def test_existing_profile_needs_overwrite(app, forms):
    write_config(app, '[taken]\ngrant_type = "0"\naccess_token = "old"\n')
    resp = forms.new_profile(name="taken", grant_type="0", access_token="new")
    assert resp.status_code == 409 and "already exists" in resp.get_data(as_text=True)
    assert ConfigStore(app.config["CONFIG_PATH"]).get("taken").access_token == "old"
    resp = forms.new_profile(name="taken", grant_type="0", access_token="new", overwrite="y")
    assert resp.status_code == 303
    assert ConfigStore(app.config["CONFIG_PATH"]).get("taken").access_token == "new"


def test_client_credentials_with_idp_down_says_so_and_saves_nothing(app, forms):
    resp = forms.new_profile()  # the test app's IdP URL is dead
    page = resp.get_data(as_text=True)
    assert resp.status_code == 502
    assert "The authorization server cannot be reached" in page and "127.0.0.1:9" in page
    assert "credentials provided are not valid" not in page  # not the user's fault
    assert "s3cret-value" not in page
    assert not Path(app.config["CONFIG_PATH"]).exists()


def test_profile_page_masks_secrets_and_offers_actions(app, client):
    write_config(app, '[cc]\ngrant_type = "1"\nclient_credentials = "cid-123"\n'
                      'client_secret = "very-secret-value"\n'
                      f'environment = "{IDP}"\n')
    page = client.get("/profiles/cc").get_data(as_text=True)
    assert "cid-123" in page and "very-secret-value" not in page and "********" in page
    # No token yet: "Log in", not "Log out" (tests/web/test_profile_edit.py: by token state).
    assert 'action="/profiles/cc/login"' in page and 'action="/profiles/cc/logout"' not in page
    assert 'href="/profiles/cc/me"' in page and 'href="/profiles/cc/edit"' in page
    assert page.count('name="csrf_token"') == 1


def test_implicit_profile_page_warns_and_allows_the_idp_as_form_action(app, client):
    write_config(app, f'[imp]\ngrant_type = "2"\nclient_credentials = "c"\nenvironment = "{IDP}"\n')
    resp = client.get("/profiles/imp")
    assert "deprecated" in resp.get_data(as_text=True)
    assert f"form-action 'self' {IDP}" in resp.headers["Content-Security-Policy"]


def test_unknown_profile_is_404(client):
    resp = client.get("/profiles/ghost")
    assert resp.status_code == 404 and "ghost" in resp.get_data(as_text=True)


def test_who_am_i_for_a_browser_profile_without_token_asks_to_log_in(app, client):
    write_config(app, f'[imp]\ngrant_type = "2"\nclient_credentials = "c"\nenvironment = "{IDP}"\n')
    resp = client.get("/profiles/imp/me")
    assert resp.status_code == 401 and "log in first" in resp.get_data(as_text=True)


def test_idp_down_gives_a_clear_error_page(app, forms):
    write_config(app, f'[cc]\ngrant_type = "1"\nclient_credentials = "c"\nclient_secret = "s"\n'
                      f'environment = "{IDP}"\n')
    resp = forms.post("/profiles/cc/login", {})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 502
    assert "not reachable" in page and "Errno" not in page  # generic: no port map (SSRF)


def test_config_file_is_not_created_by_reading(app, client):
    client.get("/")
    assert not os.path.exists(app.config["CONFIG_PATH"])


def test_head_behaves_like_get(client):
    for path in ("/profiles/new", "/", "/healthz", "/favicon.ico"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
        assert head.get_data() == b""


def test_favicon_is_a_small_cacheable_svg_linked_from_every_page(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert resp.get_data(as_text=True).startswith("<svg") and len(resp.get_data()) < 1024
    assert "max-age" in resp.headers["Cache-Control"] and "no-store" not in resp.headers["Cache-Control"]
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]  # no scripts in it
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").get_data(as_text=True)


def test_redirect_fieldset_says_it_is_only_for_browser_grants(client):
    resp = client.get("/profiles/new")
    page = resp.get_data(as_text=True)
    nonce = re.search(r"script-src 'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
    assert "<legend>Only for Implicit and PKCE" in page
    # Works without JavaScript: every group is in the page; one same-origin script under the
    # CSP nonce only hides groups, and no element carries an inline handler.
    assert re.findall(r"<script[^>]*>", page) == [
        f'<script nonce="{nonce}" src="/static/profile-form.js" defer>']
    assert not re.search(r"\son[a-z]+=", page)


def test_port_zero_redirect_uri_reads_as_chosen_at_login_time(app, client):
    write_config(app, '[pk]\ngrant_type = "3"\nclient_credentials = "c"\n'
                      f'redirect_uri = "http://localhost:0"\nenvironment = "{IDP}"\n'
                      '[fixed]\ngrant_type = "3"\nclient_credentials = "c"\n'
                      f'redirect_uri = "http://localhost:8085"\nenvironment = "{IDP}"\n')
    page = client.get("/profiles/pk").get_data(as_text=True)
    assert "chosen at login time" in page and "localhost:0" not in page
    assert "http://localhost:8085" in client.get("/profiles/fixed").get_data(as_text=True)


def test_token_expiry_is_shown_in_utc_with_relative_time(app, client):
    from datetime import datetime

    from service.profiles import GrantType, Profile, TokenData

    expiry = datetime(2999, 11, 24, 14, 56, 55, 17463, tzinfo=UTC)
    ConfigStore(app.config["CONFIG_PATH"]).save(Profile(
        name="imp", grant_type=GrantType.IMPLICIT, client_id="c", environment=IDP,
        token_data=TokenData(access_token="tok-value", token_type="bearer", expiry=expiry)))
    for path in ("/", "/profiles/imp"):
        page = client.get(path).get_data(as_text=True)
        assert "valid until 2999-11-24 14:56:55 UTC (in " in page, path
        assert "2999-11-24T14:56:55" not in page and "tok-value" not in page
