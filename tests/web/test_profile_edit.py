"""Editing and deleting profiles, gc's access-token rule, and Log in / Log out by token state."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.config_store import ConfigStore
from service.profiles import GrantType

from .conftest import IDP, write_config

CC = (f'[cc]\ngrant_type = "1"\nclient_credentials = "cid"\nclient_secret = "old-secret-value"\n'
      f'environment = "{IDP}"\nproxy_host = "proxy.example"\n'
      '[other]\ngrant_type = "0"\naccess_token = "other-token-value"\n')


def test_an_access_token_means_grant_0_and_is_not_refused(app, forms):
    resp = forms.new_profile(name="tok", grant_type="3", client_id="", access_token="fixed-token-value")
    assert resp.status_code == 303
    profile = ConfigStore(app.config["CONFIG_PATH"]).get("tok")
    assert profile.grant_type is GrantType.NONE and profile.access_token == "fixed-token-value"


def test_the_edit_form_shows_the_profile_but_no_secret(app, client):
    write_config(app, CC)
    page = client.get("/profiles/cc/edit").get_data(as_text=True)
    assert 'value="cid"' in page and f'value="{IDP}"' in page and "old-secret-value" not in page
    assert "leave blank to keep it" in page


def test_a_failed_save_leaves_the_previous_profile_intact(app, forms):
    write_config(app, CC)
    before = Path(app.config["CONFIG_PATH"]).read_bytes()
    resp = forms.post("/profiles/cc/edit", {"environment": IDP, "grant_type": "1", "client_id": "new-cid"},
                      token_from="/profiles/cc/edit")
    assert resp.status_code == 502  # the login that checks the new credentials could not run
    assert "cannot be reached" in resp.get_data(as_text=True)
    assert Path(app.config["CONFIG_PATH"]).read_bytes() == before


def test_an_edit_to_an_access_token_is_saved_in_place(app, forms):
    write_config(app, CC)
    resp = forms.post("/profiles/cc/edit", {"environment": "eu-west-1", "access_token": "new-token-value",
                                            "grant_type": "1"}, token_from="/profiles/cc/edit")
    assert resp.status_code == 303 and resp.headers["Location"] == "/profiles/cc"
    store = ConfigStore(app.config["CONFIG_PATH"])
    edited = store.get("cc")
    assert edited.grant_type is GrantType.NONE and edited.access_token == "new-token-value"
    assert edited.environment == "mypurecloud.ie"
    assert edited.extra.get("proxy_host") == "proxy.example"   # keys the form doesn't ask for stay
    assert store.get("other").access_token == "other-token-value"
    text = Path(app.config["CONFIG_PATH"]).read_text()
    assert text.index("[cc]") < text.index("[other]")         # in place


def test_a_blank_secret_keeps_the_stored_one(app, forms):
    write_config(app, CC)
    resp = forms.post("/profiles/cc/edit", {"environment": IDP, "grant_type": "9", "client_id": "cid"},
                      token_from="/profiles/cc/edit")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "unknown grant type" in page
    assert "client_secret-error" not in page and "old-secret-value" not in page


def test_delete_asks_first_then_deletes_only_that_profile(app, client, forms):
    write_config(app, CC)
    confirm = client.get("/profiles/cc/delete")
    assert confirm.status_code == 200 and "Delete profile cc?" in confirm.get_data(as_text=True)
    assert "cc" in ConfigStore(app.config["CONFIG_PATH"]).names()       # asking changed nothing
    assert client.post("/profiles/cc/delete", data={"csrf_token": "forged"}).status_code == 400
    resp = forms.post("/profiles/cc/delete", {}, token_from="/profiles/cc/delete")
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    assert ConfigStore(app.config["CONFIG_PATH"]).names() == ["other"]
    assert client.get("/profiles/cc/delete").status_code == 404


def test_log_in_or_log_out_by_token_state(app, client):
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    token = json.dumps({"access_token": "cached-token-value", "token_type": "bearer", "expires_in": 3600,
                        "error": "", "oauth_token_expiry": expiry})
    write_config(app, f'[pk]\ngrant_type = "3"\nclient_credentials = "c"\nenvironment = "{IDP}"\n'
                      f'[in]\ngrant_type = "3"\nclient_credentials = "c"\nenvironment = "{IDP}"\n'
                      f"oauth_token_data = '{token}'\n")
    out = client.get("/profiles/pk").get_data(as_text=True)
    assert 'id="login"' in out and 'id="logout"' not in out
    logged_in = client.get("/profiles/in").get_data(as_text=True)
    assert 'id="logout"' in logged_in and 'id="login"' not in logged_in
    assert "cached-token-value" not in logged_in
