"""Configuration layering, the generated session key, and the lazy package import."""
from __future__ import annotations

import stat
import threading

import pytest

import service
from service.web.settings import load_or_create_secret


def test_environment_layers_and_test_dict_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("SERVICE_IDP_URL", "http://idp:8081/")
    monkeypatch.setenv("SERVICE_IDP_PUBLIC_URL", "http://localhost:8081")
    monkeypatch.setenv("SERVICE_PUBLIC_URL", "http://localhost:9999")
    monkeypatch.setenv("SERVICE_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("GCLOGIN_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("GENESYSCLOUD_REGION", "eu-west-1")
    app = service.create_app({"PUBLIC_URL": "http://127.0.0.1:7777"})
    assert app.config["IDP_URL"] == "http://idp:8081"
    assert app.config["IDP_PUBLIC_URL"] == "http://localhost:8081"
    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:7777"
    assert app.config["SECRET_KEY"] == "k" * 40
    assert app.config["CONFIG_PATH"] == tmp_path / "cfg" / "config.toml"
    assert app.config["GENESYSCLOUD"] == {"GENESYSCLOUD_REGION": "eu-west-1"}


def test_public_idp_url_defaults_to_the_server_side_one(tmp_path):
    app = service.create_app({"IDP_URL": "http://127.0.0.1:8081", "CONFIG_PATH": tmp_path / "c.toml"})
    assert app.config["IDP_PUBLIC_URL"] == "http://127.0.0.1:8081"


@pytest.mark.parametrize("value", ["idp:8081", "ftp://idp", "http://"])
def test_bad_base_url_names_the_variable(monkeypatch, tmp_path, value):
    monkeypatch.setenv("SERVICE_IDP_URL", value)
    with pytest.raises(ValueError, match="SERVICE_IDP_URL"):
        service.create_app({"CONFIG_PATH": tmp_path / "c.toml"})


def test_generated_secret_key_is_kept_0600_beside_the_config(tmp_path):
    config = tmp_path / "gc" / "config.toml"
    first = service.create_app({"CONFIG_PATH": config})
    second = service.create_app({"CONFIG_PATH": config})
    key_file = config.parent / "web-secret.key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700


def test_concurrent_workers_agree_on_one_secret(tmp_path):
    path = tmp_path / "d" / "web-secret.key"
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(load_or_create_secret(path))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 8 and len(set(results)) == 1
    assert [p.name for p in path.parent.iterdir()] == ["web-secret.key"]  # no temp files left


def test_short_secret_file_is_refused(tmp_path):
    path = tmp_path / "web-secret.key"
    path.write_text("short")
    with pytest.raises(ValueError, match="too short"):
        load_or_create_secret(path)


@pytest.mark.slow
def test_gunicorn_serves_the_factory(tmp_path):
    from devtools.servers import gunicorn

    env = {"GCLOGIN_CONFIG": str(tmp_path / "gc" / "config.toml")}
    with gunicorn("service:create_app()", env=env, workers=2) as (base, _proc):
        import requests

        assert requests.get(base + "/healthz", timeout=5).json() == {"status": "ok"}
        assert requests.get(base + "/", timeout=5).status_code == 200
    assert (tmp_path / "gc" / "web-secret.key").exists()

