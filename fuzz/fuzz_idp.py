"""Fuzz the mock IdP's request handling (raw WSGI requests to its app): never a 5xx.

Input: a raw-HTTP-like text: "METHOD /path?query", header lines, a blank line, the
body. Placeholders are replaced before sending so the fuzzer reaches authenticated
code: @CC@ / @USER@ become a live client-credentials / user bearer token, @BASIC@ the
seeded admin client's Basic credentials. Every answer must be < 500; a 4xx must carry
a body (a clear error), and no answer may echo the client secret.

    python fuzz/fuzz_idp.py [libFuzzer flags] NEW_INPUTS_DIR fuzz/corpus/idp
"""
import base64
import secrets
import sys
import tempfile
from pathlib import Path

import atheris
from werkzeug.test import EnvironBuilder, run_wsgi_app

with atheris.instrument_imports(include=["mock_idp"]):
    from mock_idp import create_app
    from mock_idp.testing import demo_seed, issue_token

SEED = demo_seed()
ADMIN = next(c for c in SEED.clients if "admin" in c.roles)
IMPLICIT = next(c for c in SEED.clients if c.authorized_grant_type == "TOKEN")
USER = SEED.users[0]
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")

# libFuzzer exits without running atexit handlers: the caller points $TMPDIR at a
# directory it removes (make fuzz: reports/fuzz/tmp; the pytest smoke test: tmp_path).
WORKDIR = Path(tempfile.mkdtemp(prefix="fuzz-idp-"))
APPS = []


def _app():
    """The app under test; a fresh one if an input deleted a seeded client (admin API)."""
    if APPS:
        store = APPS[-1].extensions["mock_idp"].store
        if all(store.get_client(c.id) for c in (ADMIN, IMPLICIT)):
            return APPS[-1]
        APPS.pop()
    APPS.append(create_app({"DB": str(WORKDIR / f"store-{secrets.token_hex(4)}.sqlite3")}))
    return APPS[-1]

BASIC = "Basic " + base64.b64encode(f"{ADMIN.id}:{ADMIN.secret}".encode()).decode()


def _parse(text):
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, _, target = lines[0].partition(" ")
    method = method.upper() if method.upper() in METHODS else METHODS[len(method) % len(METHODS)]
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    return method, target.strip() or "/", headers, body


def check(data: bytes) -> None:
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    app = _app()
    if "@CC@" in text:
        text = text.replace("@CC@", issue_token(app, ADMIN.id))
    if "@USER@" in text:
        text = text.replace("@USER@", issue_token(app, IMPLICIT.id, USER.id))
    text = text.replace("@BASIC@", BASIC)
    method, target, headers, body = _parse(text)
    if not target.startswith("/") or any(c in target for c in " \t\x00#"):
        return  # not a request line a client could send: nothing for the app to parse
    try:
        environ = EnvironBuilder(target, method=method, headers=headers,
                                 data=body.encode("utf-8")).get_environ()
    except (ValueError, TypeError, UnicodeError):
        return  # Werkzeug refusing to build the request is not the server's doing
    # Straight into the WSGI app, as gunicorn would call it (the test client would
    # rebuild the environ and trip over paths it cannot represent).
    app_iter, status_line, _headers = run_wsgi_app(app, environ, buffered=True)
    payload = b"".join(app_iter)
    status = int(status_line.split()[0])
    assert status < 500, f"{method} {target} -> {status}: {payload[:300]!r}"
    if 400 <= status and method != "HEAD":
        assert payload, f"{method} {target} -> {status} with an empty body"
    assert ADMIN.secret.encode() not in payload, "the client secret was echoed"


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
