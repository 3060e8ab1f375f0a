"""A small implicit-grant login CLI for the client-mode tests, run as a script.

`standin_client.py gc`: behaves like Genesys's `gc` (REFERENCE §2): asks gc's prompts,
keeps no state, listens on all interfaces and relays the token in a URL path
(/access_token/<token>). `standin_client.py flags --environment URL --client-id ID --port P
--config PATH`: a correct client, with the defects named in $STANDIN_DEFECTS (comma
separated, see DEFECTS) switched on, one per client check.
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
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.error import HTTPError
from urllib.parse import parse_qsl, urlencode, urlsplit
from urllib.request import urlopen

DEFECTS = ("no_state", "ignore_state", "fixed_state", "short_state", "all_interfaces", "linger",
           "token_in_path", "markup", "any_token_type", "strict_expires_in", "case_sensitive_token_type",
           "print_token", "world_readable", "third_party", "short_verifier", "wrong_challenge")
GC_DEFECTS = {"no_state", "token_in_path", "all_interfaces"}

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
    if ask("Grant type: ") != "2":
        print("only the implicit grant is supported here", file=sys.stderr)
        sys.exit(2)
    answers["client_id"] = ask("Client ID: ")
    ask("Client Secret (Optional): ")
    answers["port"] = int(ask("Redirect URI port [0]: ") or "0")
    ask("Would you like to use a secure HTTP connection? [Y/N]: ")
    print(f"Redirect URI: http://localhost:{answers['port']}")
    ask("Would you like to use a proxy server? [Y/N]: ")
    ask("Would you like to use a gateway server? [Y/N]: ")
    answers["config"] = os.path.expanduser("~/.gc/config.toml")
    return answers


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
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--grant", choices=["implicit", "pkce"], default="implicit")
        args = p.parse_args(argv[1:])
        answers = {"name": "DEFAULT", "environment": args.environment, "client_id": args.client_id,
                   "port": args.port, "config": args.config, "grant": args.grant}
        defects = {x for x in os.environ.get("STANDIN_DEFECTS", "").split(",") if x}
        unknown = defects - set(DEFECTS)
        if unknown:
            print(f"STANDIN_DEFECTS: unknown {sorted(unknown)}", file=sys.stderr)
            return 2
    state = None if "no_state" in defects else ("fixed-state-" + "0" * 32 if "fixed_state" in defects else
                                                secrets.token_hex(4) if "short_state" in defects else
                                                secrets.token_urlsafe(32))
    login = Login(defects, state)
    host = "0.0.0.0" if "all_interfaces" in defects else "127.0.0.1"
    server = HTTPServer((host, answers["port"]), handler_for(login, answers))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    redirect = f"http://localhost:{server.server_address[1]}"
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
    if not login.done.wait(60):
        print("Login timed out", flush=True)
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
