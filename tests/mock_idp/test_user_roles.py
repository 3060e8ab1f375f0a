"""Rights follow who logged in: a user's token has the user's roles (the seed's `roles`),
whatever its client's; only client credentials carry the client's roles. A browser client
with the admin role no longer makes every user who signs in through it an admin."""
from __future__ import annotations

import pytest

from mock_idp import create_app
from mock_idp.errors import SeedError
from mock_idp.seed import parse_seed
from mock_idp.testing import app_config

from .conftest import CC, REDIRECT, Login, bearer, cc_token, fragment

SEED = f"""
[[users]]
id = "u-admin"
name = "Ada Admin"
email = "ada@example.com"
username = "ada@example.com"
password = "ada-password"
roles = ["admin"]

[[users]]
id = "u-plain"
name = "Pat Plain"
email = "pat@example.com"
username = "pat@example.com"
password = "pat-password"

[[clients]]
id = "admin-browser-client"
secret = ""
name = "A browser client given the admin role"
authorized_grant_type = "TOKEN"
registered_redirect_uri = ["{REDIRECT}"]
roles = ["admin"]

[[clients]]
id = "plain-browser-client"
secret = ""
name = "A browser client without roles"
authorized_grant_type = "TOKEN"
registered_redirect_uri = ["{REDIRECT}"]

[[clients]]
id = "{CC.id}"
secret = "{CC.secret}"
name = "cc admin"
authorized_grant_type = "CLIENT-CREDENTIALS"
roles = ["admin"]
"""


@pytest.fixture
def client(tmp_path, clock, store_config):
    seed = tmp_path / "seed.toml"
    seed.write_text(SEED, encoding="utf-8")
    app = create_app(app_config(tmp_path, SEED=str(seed), CLOCK=clock, **store_config))
    yield app.test_client()
    app.extensions["mock_idp"].store.close()


def user_token(client, client_id: str, username: str, password: str) -> str:
    done = Login(client).run(username, password, response_type="token", client_id=client_id,
                             redirect_uri=REDIRECT, state="s-roles")
    assert done.status_code == 302, done.get_data(as_text=True)
    return fragment(done.headers["Location"])["access_token"]


@pytest.mark.parametrize("client_id, username, password, admin", [
    ("admin-browser-client", "pat@example.com", "pat-password", False),   # the client's role is not the user's
    ("plain-browser-client", "ada@example.com", "ada-password", True),    # the user's role goes anywhere
    ("admin-browser-client", "ada@example.com", "ada-password", True),
    ("plain-browser-client", "pat@example.com", "pat-password", False),
])
def test_a_user_token_has_the_users_rights(client, client_id, username, password, admin):
    token = user_token(client, client_id, username, password)
    listing = client.get("/api/v2/oauth/clients", headers=bearer(token))
    assert listing.status_code == (200 if admin else 403), listing.get_data(as_text=True)
    me = client.get("/api/v2/users/me?expand=authorization", headers=bearer(token)).get_json()
    assert [r["id"] for r in me["authorization"]["roles"]] == (["admin"] if admin else [])


def test_client_credentials_keep_the_clients_roles(client):
    assert client.get("/api/v2/oauth/clients", headers=bearer(cc_token(client))).status_code == 200


@pytest.mark.parametrize("roles", ['"admin"', '[1]', '[""]'])
def test_user_roles_in_the_seed_must_be_role_names(roles):
    text = SEED.replace('roles = ["admin"]\n\n[[users]]', f'roles = {roles}\n\n[[users]]', 1)
    with pytest.raises(SeedError, match=r"users\[0\].*roles"):
        parse_seed(text, "seed.toml")
