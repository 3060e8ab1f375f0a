"""Seed file validation and application, settings from MOCK_IDP_* variables."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_idp import ConfigError, SeedError, create_app
from mock_idp.config import default_db_path
from mock_idp.seed import SeedClient, SeedUser, parse_seed
from mock_idp.testing import app_config, demo_seed

from .conftest import ALICE, CC, stored_bytes

USER = {"id": "u1", "name": "U", "email": "u@example.com", "username": "u", "password": "pw"}
CLIENT = {"id": "c1", "secret": "s", "name": "C", "authorized_grant_type": "CLIENT-CREDENTIALS",
          "registered_redirect_uri": [], "scope": [], "access_token_validity_seconds": 86400}


def seed_text(users=(USER,), clients=(CLIENT,)) -> str:
    doc = tomlkit.document()
    doc["users"] = tomlkit.aot()
    for u in users:
        doc["users"].append(tomlkit.item(u))
    doc["clients"] = tomlkit.aot()
    for c in clients:
        doc["clients"].append(tomlkit.item(c))
    return tomlkit.dumps(doc)


def test_demo_seed_matches_the_issue():
    seed = demo_seed()
    assert [u.name for u in seed.users] == ["Alice Example", "Bob Example"]
    assert [c.authorized_grant_type for c in seed.clients] == ["CLIENT-CREDENTIALS", "TOKEN", "CODE"]
    assert seed.clients[0].roles == ("admin",) and seed.clients[0].secret
    for browser in seed.clients[1:]:
        assert set(browser.registered_redirect_uri) == {
            "http://localhost:8080", "http://127.0.0.1:8080", "https://localhost:8080",
            "http://localhost:8080/callback/localhost_8081", "http://127.0.0.1:8080/callback/127.0.0.1_8081",
            "http://localhost:8080/callback/127.0.0.1_8081", "http://127.0.0.1:8080/callback/localhost_8081",
            "http://localhost:8090", "http://127.0.0.1:8090", "https://localhost:8090"}


@pytest.mark.parametrize("text, message", [
    ("users = [", "not valid TOML"),
    ("[[people]]\nid = 'x'", "unknown top-level key"),
    ("users = 3", "'users' must be an array of tables"),
    (seed_text(users=[{**USER, "id": ""}]), "users[0]: field 'id': must not be empty"),
    (seed_text(users=[{k: v for k, v in USER.items() if k != "email"}]),
     "users[0] (id 'u1'): field 'email': missing"),
    (seed_text(users=[{**USER, "selfUri": "/x"}]), "field 'selfUri': not a field a user can have"),
    (seed_text(users=[{**USER, "nick-name": "x"}]), "field 'nick-name': not a field a user can have"),
    ("[[users]]\nid='u1'\nname='U'\nemail='e'\nusername='u'\npassword='p'\nhired=1979-05-27",
     "field 'hired': must be a string, number, boolean, array or table"),
    (seed_text(users=[USER, {**USER, "id": "u2"}]), "users[1]: field 'username': duplicate"),
    (seed_text(users=[USER, {**USER, "username": "v"}]), "users[1]: field 'id': duplicate"),
    (seed_text(clients=[{**CLIENT, "authorized_grant_type": "PASSWORD"}]),
     "clients[0] (id 'c1'): field 'authorized_grant_type': must be one of"),
    (seed_text(clients=[{**CLIENT, "secret": ""}]), "field 'secret': a CLIENT-CREDENTIALS client"),
    (seed_text(clients=[{**CLIENT, "access_token_validity_seconds": 299}]),
     "field 'access_token_validity_seconds': must be an integer from 300 to 172800"),
    (seed_text(clients=[{**CLIENT, "access_token_validity_seconds": 172801}]),
     "access_token_validity_seconds"),
    (seed_text(clients=[{**CLIENT, "authorized_grant_type": "TOKEN"}]),
     "field 'registered_redirect_uri': a TOKEN client needs at least one"),
    (seed_text(clients=[{**CLIENT, "registered_redirect_uri": ["http://a:1/#x"]}]),
     "field 'registered_redirect_uri'"),
    (seed_text(clients=[{**CLIENT, "scope": "a b"}]), "field 'scope': must be an array"),
    (seed_text(clients=[{**CLIENT, "roles": [1]}]), "field 'roles'"),
    (seed_text(clients=[{**CLIENT, "name": 7}]), "field 'name': must be a string"),
    (seed_text(clients=[{**CLIENT, "id": "caf\u00e9"}]),
     "clients[0] (id 'caf\u00e9'): field 'id': must be printable ASCII (RFC 6749 Appendix A.1"),
    (seed_text(clients=[{**CLIENT, "registered_redirect_uri": ['http://a:1/"x']}]),
     "field 'registered_redirect_uri'"),
    (seed_text(clients=[{**CLIENT, "registered_redirect_uri": ["http://a:1/caf\u00e9"]}]),
     "field 'registered_redirect_uri'"),
])
def test_seed_errors_name_file_entry_and_field(text, message):
    with pytest.raises(SeedError) as info:
        parse_seed(text, "my-seed.toml")
    assert str(info.value).startswith("seed file my-seed.toml")
    assert message in str(info.value)


def test_seed_errors_never_echo_secrets():
    with pytest.raises(SeedError) as info:
        parse_seed(seed_text(clients=[{**CLIENT, "secret": 12345678}]), "s.toml")
    assert "12345678" not in str(info.value)


def test_create_app_fails_clearly_on_a_bad_seed_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(seed_text(clients=[{**CLIENT, "authorized_grant_type": "X"}]))
    with pytest.raises(SeedError, match=f"seed file {bad}: clients\\[0\\]"):
        create_app(app_config(tmp_path, SEED=str(bad)))
    with pytest.raises(SeedError, match="cannot read"):
        create_app(app_config(tmp_path, SEED=str(tmp_path / "missing.toml")))


text_value = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF,
                                   blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
                     ).filter(str.strip)
# RFC 6749 Appendix A.1: client_id is VSCHAR (%x20-7E).
client_id_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
                          max_size=12).filter(str.strip)
extra_fields = st.dictionaries(st.sampled_from(["title", "department", "manager", "skills"]),
                               st.one_of(text_value, st.integers(), st.lists(text_value, max_size=2)),
                               max_size=2)
users = st.builds(SeedUser, id=text_value, name=text_value, email=text_value,
                  username=text_value, password=text_value, extra=extra_fields)
clients = st.builds(
    SeedClient, id=client_id_value, secret=text_value, name=text_value,
    authorized_grant_type=st.sampled_from(["CLIENT-CREDENTIALS", "TOKEN", "CODE"]),
    registered_redirect_uri=st.lists(st.sampled_from(
        ["http://localhost:8080", "https://app.example/cb", "http://[::1]:9/x?y=1"]),
        min_size=1, max_size=3, unique=True).map(tuple),
    scope=st.lists(text_value, max_size=2).map(tuple),
    access_token_validity_seconds=st.integers(300, 172800),
    roles=st.lists(text_value, max_size=2).map(tuple), description=st.just(""))


@settings(max_examples=60)
@given(st.lists(users, max_size=3, unique_by=(lambda u: u.id, lambda u: u.username)),
       st.lists(clients, max_size=3, unique_by=lambda c: c.id))
def test_seed_round_trip(seed_users, seed_clients):
    """Whatever a tool writes in the documented shape reads back the same."""
    def as_dict(obj):
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(obj).items()}
        extra = fields.pop("extra", {})  # extra user fields sit beside the others
        return {**fields, **extra}
    parsed = parse_seed(seed_text([as_dict(u) for u in seed_users],
                                  [as_dict(c) for c in seed_clients]), "gen.toml")
    assert parsed.users == tuple(seed_users) and parsed.clients == tuple(seed_clients)


@settings(max_examples=100)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(sorted(USER) + sorted(CLIENT) + ["x"]),
                                      inner, max_size=6), max_leaves=12))
def test_parse_seed_raises_only_seed_error(data):
    doc = {"users": [data] if isinstance(data, dict) else data, "clients": [data]}
    try:
        text = tomlkit.dumps(doc)
    except Exception:
        return  # not representable in TOML
    try:
        parse_seed(text, "fuzz.toml")
    except SeedError:
        pass


def test_seeding_is_idempotent_and_keeps_admin_changes(tmp_path):
    config = app_config(tmp_path)
    first = create_app(config).test_client()
    from .conftest import bearer, cc_token
    admin = bearer(cc_token(first))
    first.delete("/api/v2/oauth/clients/" + demo_seed().clients[1].id, headers=admin)
    second = create_app(config).test_client()  # a worker (re)starting on the same store
    ids = {c["id"] for c in second.get("/api/v2/oauth/clients", headers=admin).json["entities"]}
    assert demo_seed().clients[1].id not in ids and CC.id in ids


def _start_worker(config: dict) -> None:
    create_app(config)


def test_concurrent_workers_seed_once(tmp_path):
    # Processes, as gunicorn's workers are (threads building Flask apps at once also trip
    # a CPython 3.11 ast.parse thread-safety bug inside werkzeug's routing).
    config = app_config(tmp_path)
    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        for started in [pool.submit(_start_worker, config) for _ in range(4)]:
            started.result(timeout=120)  # re-raises a worker's exception
    client = create_app(config).test_client()
    from .conftest import bearer, cc_token
    assert client.get("/api/v2/oauth/clients", headers=bearer(cc_token(client))).json["total"] == 3


def test_settings_from_environment(tmp_path, monkeypatch):
    seed = tmp_path / "seed.toml"
    seed.write_text(seed_text())
    monkeypatch.setenv("MOCK_IDP_SEED", str(seed))
    monkeypatch.setenv("MOCK_IDP_DB", str(tmp_path / "deep" / "store.db"))
    monkeypatch.setenv("MOCK_IDP_LOOPBACK_ANY_PORT", "1")
    app = create_app()
    state = app.extensions["mock_idp"].settings
    assert state.seed == seed and state.db == tmp_path / "deep" / "store.db"
    assert state.loopback_any_port is True
    assert (tmp_path / "deep" / "store.db").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "deep").stat().st_mode & 0o777 == 0o700
    client = app.test_client()
    assert client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       auth=("c1", "s")).status_code == 200


@pytest.mark.parametrize("name, value, message", [
    ("MOCK_IDP_LOOPBACK_ANY_PORT", "maybe", "MOCK_IDP_LOOPBACK_ANY_PORT"),
    ("MOCK_IDP_LOOPBACK_ANY_PORT", "2", "MOCK_IDP_LOOPBACK_ANY_PORT"),
    ("MOCK_IDP_TOKEN_FAST_PATH", "off", "MOCK_IDP_TOKEN_FAST_PATH"),
    ("MOCK_IDP_DB", '""', "MOCK_IDP_DB"),
    ("MOCK_IDP_SEED", "[1]", "MOCK_IDP_SEED"),
])
def test_bad_settings_fail_clearly(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    config = {} if name == "MOCK_IDP_DB" else app_config(tmp_path)
    with pytest.raises(ConfigError, match=message):
        create_app(config)


def test_default_store_is_private_and_per_server_run():
    path = default_db_path()
    assert path == default_db_path()  # every worker of one master computes the same path
    assert path.parent.name.startswith("mock-idp-") and path.suffix == ".sqlite3"


def test_test_config_wins_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCK_IDP_LOOPBACK_ANY_PORT", "1")
    app = create_app(app_config(tmp_path, LOOPBACK_ANY_PORT=False))
    assert app.extensions["mock_idp"].settings.loopback_any_port is False


def test_passwords_are_not_stored_in_clear(app, tmp_path):
    raw = stored_bytes(app)
    assert b"alice@example.com" in raw  # the store files were read
    assert ALICE.password.encode() not in raw and CC.secret.encode() not in raw
