"""R25: tokens, secrets, codes and verifiers never appear in any log line or output.

The CLI runs with --debug through all three logins against the mock IdP under gunicorn
at --log-level debug with access logs on. A recording relay between them learns every
secret actually issued; then every captured stream is grepped for each of them.
"""
from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from mock_idp.testing import demo_seed
from service.config_store import ConfigStore
from service.profiles import GrantType, Profile
from devtools.seeds import DEMO_SEED, seed_with_callback, web_callback
from devtools.servers import MOCK_IDP_ARGS, free_port

from .browser import demo_user, sign_in
from .tap import Tap
from .verbose_servers import verbose_gunicorn

CLI = [sys.executable, "-c", "from service.cli import main; main()"]
WAIT = 60.0
CC_ID, CC_SECRET = "robust-cc-client", "robust-cc-secret-0123456789abcdef"
IMPLICIT_ID, PKCE_ID = "robust-implicit-client", "robust-pkce-client"


def _seed(path: Path, implicit_port: int, pkce_port: int) -> Path:
    user = demo_user()
    path.write_text(f'''
[[users]]
id = "{user.id}"
name = "{user.name}"
email = "{user.email}"
username = "{user.username}"
password = "{user.password}"

[[clients]]
id = "{CC_ID}"
secret = "{CC_SECRET}"
name = "robustness client credentials"
authorized_grant_type = "CLIENT-CREDENTIALS"
registered_redirect_uri = []
roles = ["admin"]

[[clients]]
id = "{IMPLICIT_ID}"
secret = ""
name = "robustness implicit"
authorized_grant_type = "TOKEN"
registered_redirect_uri = ["http://localhost:{implicit_port}"]

[[clients]]
id = "{PKCE_ID}"
secret = ""
name = "robustness pkce"
authorized_grant_type = "CODE"
registered_redirect_uri = ["http://localhost:{pkce_port}"]
''')
    return path


def find_leaks(streams: dict[str, str], secrets: set[str]) -> list[str]:
    """Each line that holds a secret, with the secret itself blanked out."""
    leaks = []
    for stream, text in streams.items():
        for line in text.splitlines():
            hits = [secret for secret in secrets if secret in line]
            for secret in hits:
                line = line.replace(secret, f"<SECRET {len(secret)} chars>")
            if hits:
                leaks.append(f"{stream}: {line.strip()[:300]}")
    return leaks


class Cli:
    """Runs gclogin --debug with a private config; keeps every byte it printed."""

    def __init__(self, tmp: Path) -> None:
        self.env = {**os.environ, "GCLOGIN_CONFIG": str(tmp / "gc" / "config.toml"),
                    "GENESYSCLOUD_BROWSER": "", "HOME": str(tmp)}
        self.streams: dict[str, str] = {}

    def run(self, label: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([*CLI, "--debug", *args], env=self.env, capture_output=True,
                                text=True, timeout=WAIT)
        self.streams[f"{label} stdout"], self.streams[f"{label} stderr"] = result.stdout, result.stderr
        if ok:
            assert result.returncode == 0, f"{label}: {result.stderr}"
        return result

    def browser_login(self, label: str, *args: str) -> None:
        """A profiles new that waits at the loopback: play the browser, then let it finish."""
        proc = subprocess.Popen([*CLI, "--debug", *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        err: list[str] = []

        def pump() -> None:
            for line in proc.stderr:
                err.append(line)
                lines.put(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            url = None
            while url is None:
                line = lines.get(timeout=WAIT)
                if "/oauth/authorize?" in line:
                    url = line[line.index("http", line.index(": ")):].strip()
            location = sign_in(url)
            parts = urlsplit(location)
            back = f"{parts.scheme}://{parts.netloc}/"
            if parts.fragment:   # what the relay page's script does
                r = requests.post(back, data={"fragment": parts.fragment}, timeout=WAIT)
            else:
                r = requests.get(location, timeout=WAIT)
            assert r.status_code == 200, r.text[:300]
            out, _ = proc.communicate(timeout=WAIT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            reader.join(timeout=10)
        self.streams[f"{label} stdout"], self.streams[f"{label} stderr"] = out, "".join(err)
        assert proc.returncode == 0, "".join(err)


@pytest.mark.slow
def test_cli_and_idp_never_log_secrets(tmp_path: Path) -> None:
    implicit_port, pkce_port = free_port(), free_port()
    seed = _seed(tmp_path / "seed.toml", implicit_port, pkce_port)
    log = tmp_path / "idp.log"
    env = {"MOCK_IDP_SEED": str(seed), "MOCK_IDP_DB": str(tmp_path / "idp.sqlite3")}
    cli = Cli(tmp_path)
    with verbose_gunicorn("mock_idp:create_app()", env, log, extra_args=MOCK_IDP_ARGS) as idp, \
            Tap(("127.0.0.1", urlsplit(idp).port)) as tap:
        common = ["--environment", tap.url, "--yes", "--no-browser", "--timeout", "60"]
        cli.run("cc new", "profiles", "new", "--name", "cc", "--grant-type", "client-credentials",
                "--client-id", CC_ID, "--client-secret", CC_SECRET, *common)
        cli.browser_login("implicit new", "profiles", "new", "--name", "imp", "--grant-type",
                          "implicit", "--client-id", IMPLICIT_ID, "--redirect-port",
                          str(implicit_port), "--no-https", *common)
        cli.browser_login("pkce new", "profiles", "new", "--name", "pkce", "--grant-type", "pkce",
                          "--client-id", PKCE_ID, "--redirect-port", str(pkce_port), "--no-https",
                          *common)
        cli.run("cc users me", "users", "me", "get", "-p", "cc", ok=False)
        for name in ("imp", "pkce"):
            me = cli.run(f"{name} users me", "users", "me", "get", "-p", name)
            assert demo_user().email in me.stdout
        cli.run("list", "profiles", "list")
        cli.run("get pkce", "profiles", "get", "pkce")
        cli.run("logout", "logout", "-p", "pkce")
        cli.run("cc login", "login", "-p", "cc")
        secrets = tap.secrets() | {CC_SECRET, demo_user().password}
    streams = {**cli.streams, "gunicorn (debug + access log)": log.read_text()}

    # The relay really saw what we look for: tokens of all three grants, a code, a verifier.
    recorded = tap.recorded.decode("latin-1")
    assert "code_verifier=" in recorded and "grant_type=authorization_code" in recorded
    assert len(secrets) >= 6, f"only {len(secrets)} secret values were seen in transit"
    assert any("GET /oauth/authorize" in line for line in streams["gunicorn (debug + access log)"].splitlines())
    assert "debug:" in streams["cc new stderr"], "--debug produced no debug output"

    leaks = find_leaks(streams, secrets)
    assert not leaks, "\n".join(leaks)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.mark.slow
def test_web_service_and_idp_never_log_secrets(tmp_path: Path) -> None:
    """The web service's three logins, both servers under gunicorn at debug level."""
    seed = demo_seed()
    admin = next(c for c in seed.clients if "admin" in c.roles)
    browser_clients = {g: next(c.id for c in seed.clients if c.authorized_grant_type == t)
                       for g, t in ((GrantType.IMPLICIT, "TOKEN"), (GrantType.PKCE, "CODE"))}
    idp_log, web_log = tmp_path / "idp.log", tmp_path / "web.log"
    config = tmp_path / "gc" / "config.toml"
    web_port, idp_port = free_port(), free_port()
    tap = Tap(("127.0.0.1", idp_port))  # bound now: the web's callback names its port (R26)
    seed_file = tmp_path / "seed.toml"
    seed_file.write_text(seed_with_callback(DEMO_SEED.read_text(encoding="utf-8"),
                                            web_callback(f"http://127.0.0.1:{web_port}", tap.url)))
    idp_env = {"MOCK_IDP_DB": str(tmp_path / "idp.sqlite3"), "MOCK_IDP_SEED": str(seed_file)}
    with verbose_gunicorn("mock_idp:create_app()", idp_env, idp_log, port=idp_port,
                          extra_args=MOCK_IDP_ARGS), tap:
        web_env = {"SERVICE_IDP_URL": tap.url, "SERVICE_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
                   "GCLOGIN_CONFIG": str(config), "HOME": str(tmp_path)}
        with verbose_gunicorn("service:create_app()", web_env, web_log, port=web_port) as web:
            s = requests.Session()
            s.headers["Origin"] = web  # as a browser's same-origin form POST
            page = s.get(web + "/profiles/new", timeout=WAIT)
            r = s.post(web + "/profiles/new", timeout=WAIT, allow_redirects=False, data={
                "csrf_token": _csrf(page.text), "name": "cc", "environment": tap.url,
                "grant_type": "1", "client_id": admin.id, "client_secret": admin.secret})
            assert r.status_code == 303, r.text[:500]
            store = ConfigStore(config)
            for name, grant in (("imp", GrantType.IMPLICIT), ("pkce", GrantType.PKCE)):
                store.save(Profile(name=name, grant_type=grant, client_id=browser_clients[grant],
                                   environment=tap.url))
                page = s.get(f"{web}/profiles/{name}", timeout=WAIT)
                r = s.post(f"{web}/profiles/{name}/login", data={"csrf_token": _csrf(page.text)},
                           timeout=WAIT, allow_redirects=False)
                assert r.status_code == 303, r.text[:500]
                location = sign_in(r.headers["Location"])
                parts = urlsplit(location)
                if parts.fragment:
                    s.get(location.split("#")[0], timeout=WAIT)        # the relay page
                    r = s.post(location.split("#")[0], data={"fragment": parts.fragment},
                               timeout=WAIT, allow_redirects=False)
                else:
                    r = s.get(location, timeout=WAIT, allow_redirects=False)
                assert r.status_code == 303, r.text[:500]
                me = s.get(f"{web}/profiles/{name}/me", timeout=WAIT)
                assert me.status_code == 200 and seed.users[0].email in me.text
            cc_me = s.get(f"{web}/profiles/cc/me", timeout=WAIT)
            assert "user context" in cc_me.text
            page = s.get(f"{web}/profiles/pkce", timeout=WAIT)
            r = s.post(f"{web}/profiles/pkce/logout", data={"csrf_token": _csrf(page.text)},
                       timeout=WAIT, allow_redirects=False)
            assert r.status_code == 303
            pages = {path: s.get(web + path, timeout=WAIT).text
                     for path in ("/", "/profiles/cc", "/profiles/imp", "/profiles/pkce")}
        secrets = tap.secrets() | {admin.secret, seed.users[0].password}
    recorded = tap.recorded.decode("latin-1")
    assert "code_verifier=" in recorded and "grant_type=client_credentials" in recorded
    assert len(secrets) >= 6, f"only {len(secrets)} secret values were seen in transit"
    streams = {"idp gunicorn (debug + access log)": idp_log.read_text(),
               "web gunicorn (debug + access log)": web_log.read_text(),
               **{f"web page {path}": html for path, html in pages.items()}}
    assert "/callback" in streams["web gunicorn (debug + access log)"]
    leaks = find_leaks(streams, secrets)
    assert not leaks, "\n".join(leaks)
