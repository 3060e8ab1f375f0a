"""`python -m mock_idp`: the mock on werkzeug's server, for quick local use without gunicorn.

    python -m mock_idp --port 8081            # http://127.0.0.1:8081
    python -m mock_idp --host ::1 --port 0    # any free port on [::1]
    python -m mock_idp --tls --domain mock.test --port 8443
                                              # https://login.mock.test and api.mock.test

Settings come from the same MOCK_IDP_* variables as under gunicorn. Loopback by
default: anything else must be asked for with --host.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from werkzeug.serving import make_server

from . import create_app
from .config import tls_environment
from .errors import MockIdpError
from .tls import ensure_certificates, trust_instructions


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected 0..65535 (0: any free port), got {text!r}")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mock_idp", description="Run the mock Genesys Cloud IdP on werkzeug's "
        "development server (one process, threaded). For CI and compose use gunicorn.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=_port, default=8081, help="port (default 8081; 0: any free port)")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS with a local CA's certificate for login.DOMAIN and api.DOMAIN")
    parser.add_argument("--domain", help="with --tls: the Genesys-style domain (e.g. mock.test); "
                        "default MOCK_IDP_TLS_DOMAIN")
    parser.add_argument("--state-dir", help="with --tls: where the CA is kept (default "
                        "MOCK_IDP_STATE_DIR or ~/.local/state/mock-idp)")
    args = parser.parse_args(argv)
    env_domain, env_state = tls_environment(os.environ)
    args.domain = args.domain or env_domain
    args.state_dir = args.state_dir or str(env_state)
    if args.tls and not args.domain:
        parser.error("--tls needs --domain DOMAIN (or MOCK_IDP_TLS_DOMAIN)")
    if args.domain and not args.tls:
        parser.error("--domain goes with --tls")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # Without MOCK_IDP_DB: a store of this run only (gunicorn keys it by the master).
        app = create_app({"DB_OWNER_PID": os.getpid()})
    except MockIdpError as error:
        print(f"mock_idp: {error}", file=sys.stderr)
        return 2
    tls = None
    if args.tls:
        try:
            tls = ensure_certificates(Path(args.state_dir), args.domain)
        except (MockIdpError, OSError) as error:
            print(f"mock_idp: TLS set-up failed: {error}", file=sys.stderr)
            return 2
    try:
        server = make_server(args.host, args.port, app, threaded=True,
                             ssl_context=(str(tls.cert), str(tls.key)) if tls else None)
    except OSError as error:
        print(f"mock_idp: cannot listen on {args.host} port {args.port}: {error.strerror}",
              file=sys.stderr)
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    scheme = "https" if tls else "http"
    print(f"Mock IdP listening on {scheme}://{host}:{server.port} (Ctrl-C stops it)", flush=True)
    if tls:
        print(trust_instructions(args.domain, tls.ca_cert, server.port, args.host), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
