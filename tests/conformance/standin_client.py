"""A small implicit-grant login CLI for the client-mode tests, run as a script.

`standin_client.py gc`: behaves like Genesys's `gc` (REFERENCE §2, §6): asks gc's prompts,
keeps no state, listens on all interfaces, relays the token in a URL path
(/access_token/<token>), waits for the login forever, and sends client-credentials Basic
auth without form-urlencoding. `standin_client.py flags --environment URL --client-id ID
--port P --config PATH [--grant G] [--timeout S] [--https]`: a correct client, with the
defects named in $STANDIN_DEFECTS (comma separated, see DEFECTS) switched on, one per
client check; its client-credentials secret comes from GENESYSCLOUD_OAUTHCLIENT_SECRET.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import secrets
import shlex
import subprocess
import ssl
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, UTC
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.error import HTTPError
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit
from urllib.request import Request, urlopen

DEFECTS = ("no_state", "ignore_state", "fixed_state", "short_state", "all_interfaces", "linger",
           "token_in_path", "markup", "any_token_type", "strict_expires_in", "case_sensitive_token_type",
           "print_token", "world_readable", "third_party", "short_verifier", "wrong_challenge",
           "raw_basic", "ignore_iss", "reused_key", "long_cert", "orphan_listener")
GC_DEFECTS = {"no_state", "token_in_path", "all_interfaces", "raw_basic", "no_timeout"}
#: reused_key: every login's key is derived from this one number (as if read from a fixed file)
FIXED_KEY = 0x5EED_C0FFEE

RELAY = """<!doctype html><title>Login</title>{extra}<script nonce="{nonce}">
const p = new URLSearchParams(location.hash.slice(1));
history.replaceState(null, "", "/");
{send}
</script>"""
SEND_POST = """fetch("/token", {method: "POST", body: p}).then(r => r.text()).then(t => {
  document.open(); document.write(t); document.close(); });"""
SEND_PATH = """location.replace("/access_token/" + encodeURIComponent(p.get("access_token") || "")
  + "?" + p.toString().replace(/access_token=[^&]*&?/, ""));"""


def prompt_gc() -> dict:
    ask = lambda text: input(text).strip()  # noqa: E731
    answers = {"name": ask("Profile Name [DEFAULT]: ") or "DEFAULT",
               "environment": ask("Environment [mypurecloud.com]: ") or "mypurecloud.com"}
    ask("Access Token (Optional): ")
    print("Select your authorization grant type.\n0. None\n1. Client Credentials\n2. Implicit Grant\n3. PKCE Grant")
    grant = ask("Grant type: ")
    if grant not in ("1", "2"):
        print("only the client credentials and implicit grants are supported here", file=sys.stderr)
        sys.exit(2)
    answers["client_id"] = ask("Client ID: ")
    answers["config"] = os.path.expanduser("~/.gc/config.toml")
    if grant == "1":
        answers.update(grant="client-credentials", client_secret=input("Client Secret: "))
        ask("Would you like to use a proxy server? [Y/N]: ")
        ask("Would you like to use a gateway server? [Y/N]: ")
        return answers
    ask("Client Secret (Optional): ")
    answers["port"] = int(ask("Redirect URI port [0]: ") or "0")
    ask("Would you like to use a secure HTTP connection? [Y/N]: ")
    print(f"Redirect URI: http://localhost:{answers['port']}")
    ask("Would you like to use a proxy server? [Y/N]: ")
    ask("Would you like to use a gateway server? [Y/N]: ")
    return answers


def basic_header(client_id: str, secret: str, raw: bool) -> str:
    """RFC 6749 §2.3.1: each half form-urlencoded, then base64 (raw: gc's way, neither encoded)."""
    pair = f"{client_id}:{secret}" if raw else f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def client_credentials(answers: dict, defects: set[str]) -> int:
    request = Request(answers["environment"].rstrip("/") + "/oauth/token",
                      urlencode({"grant_type": "client_credentials"}).encode(),
                      {"Authorization": basic_header(answers["client_id"], answers["client_secret"],
                                                     "raw_basic" in defects)})
    try:
        with urlopen(request, timeout=10) as response:
            token = json.load(response).get("access_token", "")
    except HTTPError as exc:
        print(f"The credentials provided are not valid (HTTP {exc.code}).", flush=True)
        return 1
    save(answers["config"], answers["name"], answers["environment"], token, "world_readable" in defects)
    print(f"Profile {answers['name']} saved.", flush=True)
    return 0


def tls_context(lifetime: timedelta, defects: set[str]) -> ssl.SSLContext:
    """A self-signed localhost certificate: a fresh key valid for the login (or the defects')."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.derive_private_key(FIXED_KEY, ec.SECP256R1()) if "reused_key" in defects else \
        ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    valid = timedelta(hours=24) if "long_cert" in defects else lifetime + timedelta(minutes=1)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + valid)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as private:  # 0700, gone once loaded
        cert_path, key_path = os.path.join(private, "cert.pem"), os.path.join(private, "key.pem")
        with open(cert_path, "wb") as out:
            out.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        context.load_cert_chain(cert_path, key_path)
    return context


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def redeem(answers: dict, code: str, verifier: str) -> dict:
    form = urlencode({"grant_type": "authorization_code", "code": code, "client_id": answers["client_id"],
                      "redirect_uri": answers["redirect_uri"], "code_verifier": verifier}).encode()
    try:
        with urlopen(answers["environment"].rstrip("/") + "/oauth/token", form, timeout=10) as response:
            return json.load(response)
    except HTTPError as exc:
        return {"error": "token_request_failed", "error_description": f"HTTP {exc.code}"}


class Login:
    def __init__(self, defects: set[str], state: str | None) -> None:
        self.defects, self.state = defects, state
        self.verifier = ""
        self.result: tuple[int, str] | None = None
        self.done = threading.Event()


def handler_for(login: Login, answers: dict):
    d = login.defects

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body: str, csp: str = "") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if csp and "third_party" not in d:
                self.send_header("Content-Security-Policy", csp)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            parts = urlsplit(self.path)
            if "code=" in parts.query or "error=" in parts.query:
                return self.finish_login(dict(parse_qsl(parts.query, keep_blank_values=True)))
            if parts.path.startswith("/access_token/"):
                params = dict(parse_qsl(parts.query))
                params["access_token"] = parts.path.removeprefix("/access_token/")
                return self.finish_login(params)
            nonce = secrets.token_urlsafe(16)
            extra = '<script src="https://cdn.example.invalid/relay.js"></script>' if "third_party" in d else ""
            send = SEND_PATH if "token_in_path" in d else SEND_POST
            self._send(200, RELAY.format(nonce=nonce, send=send, extra=extra),
                       f"default-src 'none'; script-src 'nonce-{nonce}'; connect-src 'self'")

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            self.finish_login(dict(parse_qsl(body, keep_blank_values=True)))

        def finish_login(self, params: dict) -> None:
            csp = "default-src 'none'"
            checks_state = not ({"no_state", "ignore_state"} & d)
            if checks_state and (login.result is not None or not secrets.compare_digest(
                    params.get("state", "").encode(), (login.state or "").encode())):
                return self._send(400, "<p>Wrong or missing state: ignored, still waiting.</p>", csp)
            issuer = params.get("iss", answers["environment"]).rstrip("/")
            if issuer != answers["environment"].rstrip("/") and "ignore_iss" not in d:
                self._send(400, "<p>The response names another issuer: refused (mix-up).</p>", csp)
                print("Login refused: the response comes from another issuer (mix-up)", flush=True)
                login.result = (1, "")
                login.done.set()
                return
            if "code" in params and "error" not in params:
                params = {**params, **redeem(answers, params["code"], login.verifier)}
            if "error" in params:
                text = f"{params['error']}: {params.get('error_description', '')}"
                shown = text if "markup" in d else html.escape(text)
                printed = text if "markup" in d else "".join(c if c.isprintable() else "?" for c in text)
                self._send(400, f"<p>Login failed: {shown}</p>", csp)
                print(f"Login failed: {printed}", flush=True)
                login.result = (1, "")
                login.done.set()
                return
            token_type = params.get("token_type", "")
            ok_type = token_type == "bearer" if "case_sensitive_token_type" in d else token_type.lower() == "bearer"
            if not ok_type and "any_token_type" not in d:
                self._send(400, "<p>Unsupported token type.</p>", csp)
                print("Login failed: unsupported token_type", flush=True)
                login.result = (1, "")
                login.done.set()
                return
            if "strict_expires_in" in d:
                int(params["expires_in"])  # a KeyError when the optional field is missing
            self._send(200, "<p>Logged in. You can close this window.</p>", csp)
            login.result = (0, params.get("access_token", ""))
            login.done.set()

    return Handler


def save(path: str, name: str, environment: str, token: str, world_readable: bool) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755 if world_readable else 0o700, exist_ok=True)
    mode = 0o644 if world_readable else 0o600
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(f'[{name}]\nenvironment = "{environment}"\naccess_token = "{token}"\n')


def main(argv: list[str]) -> int:
    if argv[:1] == ["gc"]:
        defects, answers = set(GC_DEFECTS), prompt_gc()
    else:
        p = argparse.ArgumentParser()
        for flag in ("--environment", "--client-id", "--config"):
            p.add_argument(flag, required=True)
        p.add_argument("--port", type=int, default=0)
        p.add_argument("--grant", choices=["implicit", "pkce", "client-credentials"], default="implicit")
        p.add_argument("--timeout", type=float, default=60.0)
        p.add_argument("--https", action=argparse.BooleanOptionalAction, default=False)
        args = p.parse_args(argv[1:])
        answers = {"name": "DEFAULT", "environment": args.environment, "client_id": args.client_id,
                   "port": args.port, "config": args.config, "grant": args.grant, "timeout": args.timeout,
                   "https": args.https, "client_secret": os.environ.get("GENESYSCLOUD_OAUTHCLIENT_SECRET", "")}
        defects = {x for x in os.environ.get("STANDIN_DEFECTS", "").split(",") if x}
        unknown = defects - set(DEFECTS)
        if unknown:
            print(f"STANDIN_DEFECTS: unknown {sorted(unknown)}", file=sys.stderr)
            return 2
    if answers.get("grant") == "client-credentials":
        return client_credentials(answers, defects)
    state = None if "no_state" in defects else ("fixed-state-" + "0" * 32 if "fixed_state" in defects else
                                                secrets.token_hex(4) if "short_state" in defects else
                                                secrets.token_urlsafe(32))
    login = Login(defects, state)
    host = "0.0.0.0" if "all_interfaces" in defects else "127.0.0.1"
    server = HTTPServer((host, answers["port"]), handler_for(login, answers))
    timeout = None if "no_timeout" in defects else answers.get("timeout", 60.0)
    if answers.get("https"):
        server.socket = tls_context(timedelta(seconds=timeout or 60.0), defects).wrap_socket(
            server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    redirect = f"{'https' if answers.get('https') else 'http'}://localhost:{server.server_address[1]}"
    answers["redirect_uri"] = redirect
    params = {"response_type": "token", "client_id": answers["client_id"], "redirect_uri": redirect}
    if answers.get("grant") == "pkce":
        login.verifier = secrets.token_urlsafe(48)[:42 if "short_verifier" in defects else 64]
        challenge = s256(secrets.token_urlsafe(48) if "wrong_challenge" in defects else login.verifier)
        params.update(response_type="code", code_challenge=challenge, code_challenge_method="S256")
    if state:
        params["state"] = state
    url = answers["environment"].rstrip("/") + "/oauth/authorize?" + urlencode(params)
    print(f"Open this URL to log in: {url}", flush=True)
    program = os.environ.get("GENESYSCLOUD_BROWSER", "")
    if program:
        subprocess.Popen([*shlex.split(program), url], stdin=subprocess.DEVNULL)
    if not login.done.wait(timeout):
        print("Login timed out", flush=True)
        if "orphan_listener" in defects:  # a helper that inherits the listening socket outlives us
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], pass_fds=[server.fileno()])
        return 1
    code, token = login.result or (1, "")
    if "linger" in defects:
        time.sleep(8)
    server.shutdown()
    server.server_close()
    if code == 0:
        save(answers["config"], answers["name"], answers["environment"], token, "world_readable" in defects)
        print(f"Profile {answers['name']} saved." + (f" Token: {token}" if "print_token" in defects else ""),
              flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
