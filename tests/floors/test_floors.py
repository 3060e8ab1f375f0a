"""The declared dependency floors work: both apps import, start and answer when every
``[project].dependencies`` entry is installed at exactly its ``>=`` version.

`make test-floors` builds that venv (build/floors/, pins from devtools.floors) and points
FLOORS_PYTHON at its interpreter; this harness runs in the project's own venv and drives
servers that run in the floors one.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement
from packaging.version import Version

from devtools.floors import project_pins
from devtools.processes import IDP_CONFIG, WEB_CONFIG
from devtools.redis_server import RedisServer
from devtools.servers import gunicorn

REPO = Path(__file__).resolve().parents[2]
# Read at import: the autouse fixture clears the project's own prefixes, not this one.
FLOORS_PYTHON = os.environ.get("FLOORS_PYTHON", "")
TIMEOUT = 10

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not FLOORS_PYTHON, reason="needs the venv of the declared dependency floors: "
                                                 "FLOORS_PYTHON, which `make test-floors` sets"),
]

PINS = project_pins((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SEED = REPO / "mock_idp" / "seed.toml"
CC = next(c for c in tomllib.loads(SEED.read_text(encoding="utf-8"))["clients"]
          if c["authorized_grant_type"] == "CLIENT-CREDENTIALS")


def floors_run(code: str) -> str:
    """Run code in the floors venv; its stdout, or the test fails with its stderr."""
    done = subprocess.run([FLOORS_PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ["HOME"]})
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextlib.contextmanager
def floors_gunicorn(spec: str, config: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """One app under the floors venv's gunicorn with the project's config; its base URL."""
    try:
        with gunicorn(spec, env=env, workers=1, log_path=log, extra_args=["--config", config],
                      python=FLOORS_PYTHON) as (base, _proc):
            yield base
    except (RuntimeError, TimeoutError) as exc:
        raise AssertionError(f"{spec} did not start under the floors: {exc}\n{log.read_text()}") from exc


def cc_token(base: str) -> str:
    response = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(CC["id"], CC["secret"]), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"].lower() == "bearer"
    return response.json()["access_token"]


def assert_token_works(base: str) -> None:
    token = cc_token(base)
    me = requests.get(base + "/api/v2/tokens/me", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert me.status_code == 200, me.text
    assert me.json()["OAuthClient"]["id"] == CC["id"]
    # A client-credentials token has no user: the mock answers as Genesys does, with 400.
    user = requests.get(base + "/api/v2/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert user.status_code == 400, user.text


def assert_form_limits(base: str) -> None:
    """The mock's MAX_FORM_PARTS (100) holds: Flask applies that config since 3.1."""
    def login_post(parts: int) -> requests.Response:
        fields = {f"f{i}": (None, "x") for i in range(parts)}
        return requests.post(base + "/oauth/authorize", files=fields, timeout=TIMEOUT, allow_redirects=False)

    assert login_post(3).status_code != 413
    assert login_post(150).status_code == 413


def test_the_venv_holds_exactly_the_floors():
    installed = json.loads(floors_run(
        "import json, importlib.metadata as m, sys; "
        f"print(json.dumps({{n: m.version(n) for n in {[Requirement(p).name for p in PINS]!r}}}))"))
    for pin in PINS:
        req = Requirement(pin)
        floor = Version(next(iter(req.specifier)).version)
        assert Version(installed[req.name]) == floor, f"{req.name} {installed[req.name]} is not the floor {floor}"


def test_the_packages_import_and_the_cli_answers():
    out = floors_run("import service, mock_idp, gclogin_conformance, mock_idp.redis_store, "
                     "gclogin_conformance.cli, service.cli\n"
                     "from service.cli import main\n"
                     "try:\n main(['--help'])\nexcept SystemExit as e:\n assert e.code == 0, e.code")
    assert "Usage" in out


def test_the_mock_makes_its_tls_certificates(tmp_path):
    out = floors_run("from pathlib import Path; from mock_idp.tls import ensure_certificates; "
                     f"f = ensure_certificates(Path({str(tmp_path)!r}), 'mock.test'); print(f.cert)")
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(Path(out.strip()).read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "api.mock.test" in names.get_values_for_type(x509.DNSName)


def test_both_apps_start_and_answer(tmp_path):
    idp_env = {"MOCK_IDP_SEED": str(SEED), "MOCK_IDP_DB": str(tmp_path / "idp.sqlite3")}
    with floors_gunicorn("mock_idp:create_app()", IDP_CONFIG, idp_env, tmp_path / "idp.log") as idp:
        assert requests.get(idp + "/healthz", timeout=TIMEOUT).status_code == 200
        assert_token_works(idp)
        assert_form_limits(idp)
        web_env = {"GCLOGIN_CONFIG": str(tmp_path / "gc" / "config.toml"), "SERVICE_IDP_URL": idp}
        with floors_gunicorn("service:create_app()", WEB_CONFIG, web_env, tmp_path / "web.log") as web:
            assert requests.get(web + "/healthz", timeout=TIMEOUT).status_code == 200
            page = requests.get(web + "/profiles/new", timeout=TIMEOUT)
            assert page.status_code == 200, page.text
            assert "New profile" in page.text and 'name="environment"' in page.text


def test_the_mock_runs_on_the_redis_store(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        env = {"MOCK_IDP_STORE": server.url, "MOCK_IDP_SEED": str(SEED),
               "MOCK_IDP_DB": str(tmp_path / "unused.sqlite3")}
        with floors_gunicorn("mock_idp:create_app()", IDP_CONFIG, env, tmp_path / "idp.log") as idp:
            assert_token_works(idp)
    finally:
        server.stop()
    assert not (tmp_path / "unused.sqlite3").exists()  # the Redis store was the one used

