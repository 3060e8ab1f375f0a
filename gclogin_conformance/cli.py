"""`gclogin-conformance`: the command line. Bad arguments fail before anything starts."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from gclogin_conformance.targets import RunSpec, TargetError, server_spec, spec_from_env

EXAMPLES = """\
examples:
  gclogin-conformance                                  # self-check: gclogin, its mock and web service
  gclogin-conformance server http://127.0.0.1:8081 --mock
  gclogin-conformance server https://login.example --api-url https://api.example --credentials creds.toml
  gclogin-conformance server eu-west-1 --credentials creds.toml   # a Genesys Cloud region
  gclogin-conformance client my-cli.toml               # a client, by its profile (the suite plays the IdP)
  gclogin-conformance client gclogin                   # a shipped profile: gclogin, gc, browser-app
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gclogin-conformance", epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="Judge a Genesys Cloud login client or authorization server "
                                            "against R1–R29 and G1–G8.")
    p.add_argument("--out", type=Path, default=Path("reports"), help="report directory [./reports]")
    sub = p.add_subparsers(dest="mode")
    self_check = sub.add_parser("self-check", help="gclogin's client, mock and web service (the default)")
    self_check.add_argument("pytest_args", nargs="*")
    server = sub.add_parser("server", help="an authorization server, by base URL (or region)")
    server.add_argument("url", help="login base URL, e.g. https://login.mypurecloud.ie, or a region")
    server.add_argument("--api-url", help="API base URL when it differs (Genesys: https://api.<domain>)")
    server.add_argument("--credentials", type=Path, help="TOML: [client_credentials] [implicit] [pkce] [user] [admin]")
    server.add_argument("--mock", action="store_true",
                        help="the server is gclogin's mock IdP: use its demo seed and admin API (mock-only checks run)")
    server.add_argument("--clock-url", default="", help=argparse.SUPPRESS)
    server.add_argument("pytest_args", nargs="*")
    client = sub.add_parser("client", help="a login client, by its profile TOML (the suite plays the IdP)")
    client.add_argument("profile", help="profile TOML, or a shipped one: gclogin, gc, browser-app")
    client.add_argument("pytest_args", nargs="*")
    return p


def client_profile_path(name: str) -> Path:
    """A profile file, or the shipped profile of that name; validated here (errors name file and field)."""
    from gclogin_conformance.client.profile import load_profile
    from gclogin_conformance.plugin import SHIPPED_PROFILES

    path = Path(name)
    if not path.exists() and (SHIPPED_PROFILES / f"{name}.toml").exists():
        path = SHIPPED_PROFILES / f"{name}.toml"
    profile = load_profile(path)
    program = profile.command[0] if profile.command else ""
    if program and "{" not in program and not shutil.which(program) \
            and not (Path(sys.executable).parent / program).exists():
        raise TargetError(f"{path}: command[0]={program!r}: not found on PATH (install the client, or give its path)")
    return path.resolve()


def _region(url: str) -> tuple[str, str | None]:
    if "://" in url:
        return url, None
    from service.environments import resolve
    from service.errors import GcloginError

    try:
        endpoints = resolve(url)
    except GcloginError as exc:
        raise TargetError(f"URL {url!r}: not a base URL, and {exc}") from None
    return endpoints.login_url, endpoints.api_url


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    if args.mode in (None, "self-check"):
        return spec_from_env({k: v for k, v in os.environ.items() if k.startswith("CONFORMANCE_")})
    if args.mode == "server":
        from gclogin_conformance.idp_driver import default_seed

        login, api = _region(args.url)
        return RunSpec("server", server=server_spec(login, args.api_url or api, args.credentials, mock=args.mock,
                                                    seed=default_seed() if args.mock else None,
                                                    clock_url=args.clock_url))
    if args.mode == "client":
        return RunSpec("client", client_profile=str(client_profile_path(args.profile)))
    raise TargetError(f"unknown mode {args.mode!r}")


def main(argv: list[str] | None = None) -> int:
    args, extra = parser().parse_known_args(argv)
    args.pytest_args = [*(getattr(args, "pytest_args", None) or []), *extra]
    try:
        spec = spec_from_args(args)
    except TargetError as exc:
        print(f"gclogin-conformance: {exc}", file=sys.stderr)
        return 2
    from gclogin_conformance.runner import run

    stack = f" against {spec.server.describe()}, web {spec.web_url or 'none'}" if spec.server else ""
    target = {"self-check": f"self-check (gclogin client, mock IdP, web service){stack}",
              "server": f"server {spec.server.describe() if spec.server else ''}",
              "client": f"client {spec.client_profile}"}[spec.mode]
    return run(spec, args.out, args.pytest_args, target=target)
