"""The mock IdP with switchable, realistic defects, for showing that every server check can fail.

`defective_app(directory, defects)` wraps `mock_idp.create_app` (its public factory; the
mock itself is unchanged) in WSGI middleware that breaks one behaviour per defect. It
also carries the suite's clock seam, so the expiry check runs against it.
"""
from __future__ import annotations

import base64
import io
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

from gclogin_conformance.clock import AdjustableClock, with_clock_seam
from gclogin_conformance.idp_driver import default_seed

#: defect → what it breaks (the checks that must fail are listed in test_defective_server.py)
DEFECTS = {
    "any_secret": "the token endpoint accepts any client secret",
    "code_for_other_client": "a code is redeemed for a client other than the one it was issued to",
    "code_reusable": "a code can be redeemed twice",
    "cacheable_tokens": "token responses lack Cache-Control: no-store and Pragma: no-cache",
    "open_redirect": "authorization errors redirect to an unregistered redirect_uri",
    "expired_accepted": "the API accepts expired tokens",
    "state_dropped": "the authorization response leaves out state",
}


def _call(app, environ, body: bytes):
    environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, list(headers)
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return captured["status"], captured["headers"], payload


def _header(headers, name):
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def defective_app(directory, defects: set[str]):
    unknown = defects - set(DEFECTS)
    if unknown:
        raise ValueError(f"unknown defect(s) {sorted(unknown)}; known: {sorted(DEFECTS)}")
    from mock_idp import create_app

    clock = AdjustableClock()
    in_api = threading.local()

    def mock_clock() -> float:
        if "expired_accepted" in defects and getattr(in_api, "on", False):
            return clock() - clock.offset  # the API never sees time move on
        return clock()

    mock = create_app({"DB": str(directory / "idp.sqlite3"), "CLOCK": mock_clock})
    secrets = {c["id"]: c["secret"] for c in default_seed()["clients"] if c.get("secret")}
    code_clients: list[str] = []
    redeemed: dict[str, tuple] = {}

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        in_api.on = path.startswith("/api/")
        if path == "/oauth/authorize" and query.get("response_type") == "code" and query.get("client_id"):
            code_clients.append(query["client_id"])
        status, headers, payload = _call(mock, environ, body)
        if path == "/oauth/token":
            status, headers, payload = _token(environ, body, status, headers, payload)
        if "open_redirect" in defects and path == "/oauth/authorize" and status.startswith("400") \
                and query.get("redirect_uri"):
            status = "302 FOUND"
            headers = [("Location", query["redirect_uri"] + "#" + urlencode({"error": "invalid_request",
                                                                             "state": query.get("state", "")}))]
            payload = b""
        location = _header(headers, "Location")
        if "state_dropped" in defects and location and "state=" in location:
            parts = urlsplit(location)
            strip = lambda s: urlencode([(k, v) for k, v in parse_qs(s).items() for v in v if k != "state"])  # noqa: E731
            headers = [(k, v) for k, v in headers if k.lower() != "location"]
            headers.append(("Location", parts._replace(query=strip(parts.query), fragment=strip(parts.fragment))
                            .geturl()))
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        start_response(status, headers)
        return [payload]

    def _token(environ, body, status, headers, payload):
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if "any_secret" in defects and status.startswith("401") and auth.startswith("Basic "):
            client_id = base64.b64decode(auth[6:]).decode().partition(":")[0]
            if client_id in secrets:
                good = base64.b64encode(f"{client_id}:{secrets[client_id]}".encode()).decode()
                status, headers, payload = _call(mock, {**environ, "HTTP_AUTHORIZATION": "Basic " + good}, body)
        if form.get("grant_type") == "authorization_code":
            code = form.get("code", "")
            if "code_for_other_client" in defects and not status.startswith("200"):
                for other in reversed(code_clients):
                    retry = _call(mock, environ, urlencode({**form, "client_id": other}).encode())
                    if retry[0].startswith("200"):
                        status, headers, payload = retry
                        break
            if status.startswith("200"):
                redeemed[code] = (status, headers, payload)
            elif "code_reusable" in defects and code in redeemed:
                status, headers, payload = redeemed[code]
        if "cacheable_tokens" in defects:
            headers = [(k, v) for k, v in headers if k.lower() not in ("cache-control", "pragma")]
        return status, headers, payload

    return with_clock_seam(app, clock)
