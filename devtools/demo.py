"""`make demo`: the mock IdP and the web service under gunicorn on 127.0.0.1.

Binds both ports itself first (a port in use fails at once, with the make variable to
change) and hands the bound sockets to gunicorn (``--bind fd://N``), so the /healthz that
answers can only be ours. Waits (bounded) for it, prints the URL, every credential the
IdP's seed holds (demo data, public in the repository: users and passwords, client IDs and
secrets) and the CLI lines that log in with them, and stops both on Ctrl-C, SIGTERM or SIGHUP (a closed
terminal). On Linux the servers also get SIGTERM if the launcher itself dies (SIGKILL):
``PR_SET_PDEATHSIG``. State (the demo config.toml, the IdP's SQLite file, the session key)
lives in a private directory.

    python -m devtools.demo --idp-port 8081 --web-port 8080 --state-dir .demo
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service import open_private, private_dir

from .seeds import seed_with_callback, web_callback
from .processes import IDP_CONFIG, WEB_CONFIG, die_with_parent, gunicorn_command, stop

HOST = "127.0.0.1"
#: the port the seed's redirect URIs name; other ports need the RFC 8252 any-port rule
SEED_WEB_PORT = 8080
_STRIPPED = ("GENESYSCLOUD_", "SERVICE_", "MOCK_IDP_", "GCLOGIN_")


_GRANT_NAMES = {"CLIENT-CREDENTIALS": "Client Credentials", "TOKEN": "Implicit Grant",
                "CODE": "PKCE Grant"}


class DemoError(Exception):
    """The demo could not start; the message says why."""


def default_seed() -> Path:
    """The demo seed shipped in the mock_idp package."""
    from importlib import resources

    return Path(str(resources.files("mock_idp") / "seed.toml"))


def demo_facts(seed: Mapping[str, Any]) -> dict[str, Any]:
    """Users (with the demo password) and clients by grant, as the seed declares them."""
    users = [{"username": u.get("username") or u.get("email", ""), "password": u.get("password", "")}
             for u in seed.get("users", []) if isinstance(u, Mapping)]
    clients = [{"client_id": c.get("id", ""), "grant": c.get("authorized_grant_type", ""),
                "name": c.get("name", ""), "secret": c.get("secret", ""),
                "redirect_uris": list(c.get("registered_redirect_uri", []))}
               for c in seed.get("clients", []) if isinstance(c, Mapping)]
    return {"users": users, "clients": clients}


def environments(state_dir: Path, idp_port: int, web_port: int, seed: Path,
                 base: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The IdP's and the web service's environments (the caller's own settings dropped)."""
    clean = {k: v for k, v in base.items() if not k.startswith(_STRIPPED)}
    idp_url = f"http://{HOST}:{idp_port}"
    idp = {**clean, "MOCK_IDP_SEED": str(seed), "MOCK_IDP_DB": str(state_dir / "idp.sqlite3"),
           "MOCK_IDP_SHOW_DEMO_CREDENTIALS": "1"}  # its landing page lists the demo users
    # Any loopback port, localhost included (RFC 8252 §7.3): port 0 and other ports work in the demo.
    idp["MOCK_IDP_LOOPBACK_ANY_PORT"] = "localhost"
    web = {**clean, "GCLOGIN_CONFIG": str(state_dir / "config.toml"),
           "SERVICE_IDP_URL": idp_url, "SERVICE_IDP_PUBLIC_URL": idp_url,
           "SERVICE_PUBLIC_URL": f"http://{HOST}:{web_port}"}
    return idp, web


def reserve_ports(ports: Mapping[str, int]) -> dict[str, socket.socket]:
    """Bind each port on 127.0.0.1 now (make variable → port), or DemoError in one line.

    The sockets are handed to gunicorn, so nothing else can take a port between this
    check and the server start, and whatever answers on it later is our server.
    """
    names: dict[int, str] = {}
    for variable, port in ports.items():
        if port in names:
            raise DemoError(f"{names[port]} and {variable} are both {port}; choose different ports")
        names[port] = variable
    bound: dict[str, socket.socket] = {}
    try:
        for variable, port in ports.items():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            bound[variable] = sock
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
            try:
                sock.bind((HOST, port))
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    why = "in use" if exc.errno == errno.EADDRINUSE else "not allowed"
                    raise DemoError(f"port {port} is {why}; choose another with "
                                    f"`make demo {variable}=…`") from None
                raise DemoError(f"cannot bind {HOST}:{port} ({variable}): {exc.strerror}") from None
            sock.set_inheritable(True)
    except BaseException:
        for sock in bound.values():
            sock.close()
        raise
    return bound


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Poll url until it answers 200 while proc, the server that owns the port, still runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"the server for {url} exited with status {proc.returncode}")
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200 and proc.poll() is None:
                    return
        time.sleep(0.2)
    raise DemoError(f"{url} did not answer within {timeout:.0f}s")


def cli_lines(facts: Mapping[str, Any], idp_url: str, busy_ports: Sequence[int], config: Path,
              gclogin: str) -> list[str]:
    """The two CLI lines that log the first demo user in with PKCE, then ask who they are.

    The redirect port is the first ``http://localhost:PORT`` the seed's public PKCE client
    registers that the demo's servers do not hold (Genesys matches it exactly). Empty when
    the seed has no such client or user.
    """
    client = next((c for c in facts["clients"] if c["grant"] == "CODE" and not c["secret"]), None)
    if client is None or not facts["users"]:
        return []
    ports = [parts.port for parts in map(urlsplit, client["redirect_uris"])
             if parts.scheme == "http" and parts.hostname == "localhost" and parts.path in ("", "/")
             and parts.port is not None and parts.port not in busy_ports]
    if not ports:
        return []
    prefix = f"GCLOGIN_CONFIG={shlex.quote(str(config))} {shlex.quote(gclogin)}"
    return [f"{prefix} profiles new --name demo --environment {idp_url} --grant-type pkce "
            f"--client-id {client['client_id']} --redirect-port {ports[0]} --no-https --yes",
            f"{prefix} users me get -p demo"]


def banner(web_url: str, idp_url: str, facts: Mapping[str, Any], state_dir: Path, seed: Path,
           cli: Sequence[str] = ()) -> str:
    """What the demo prints once both servers answer: every seeded credential, in full.

    These are the seed's demo values, public in the repository (R25 guards real secrets:
    tokens, codes and secrets a user supplies; the demo prints none of those).
    """
    lines = [f"gclogin demo: open {web_url}/ in a browser",
             f"  mock Genesys IdP: {idp_url} (use it as the profile's environment)",
             f"  demo credentials from {seed} (demo values only: never reuse them):"]
    for user in facts["users"]:
        lines.append(f"    demo user: {user['username']}  password: {user['password']}")
    for client in facts["clients"]:
        secret = f"  secret: {client['secret']}" if client["secret"] else "  (no secret)"
        lines.append(f"    {_GRANT_NAMES.get(client['grant'], client['grant'])} client id: "
                     f"{client['client_id']}{secret}  ({client['name']})")
    if cli:
        lines.append(f"  the CLI, in another terminal (sign in as {facts['users'][0]['username']} "
                     "in the browser it opens; the profile shows up in the web pages too):")
        lines.extend(f"    {line}" for line in cli)
    lines.append(f"  state: {state_dir}  (config.toml, IdP database)")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def gclogin_command() -> str:
    """The venv's gclogin beside this interpreter, relative to the working directory when inside it."""
    path = Path(sys.executable).parent / "gclogin"
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


#: handled alike: Ctrl-C, kill, and the terminal closing (SIGHUP to make's process group)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _say(text: str, err: bool = False) -> None:
    """Print, but never fail the shutdown: after SIGHUP the terminal may be gone."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr if err else sys.stdout, flush=True)


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--idp-port", type=int, default=8081)
    parser.add_argument("--web-port", type=int, default=8080)
    parser.add_argument("--state-dir", type=Path, default=Path(".demo"))
    parser.add_argument("--seed", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for /healthz")
    args = parser.parse_args(argv)

    state_dir = args.state_dir.resolve()
    private_dir(state_dir, tighten_existing=True)
    seed = (args.seed or default_seed()).resolve()
    idp_url, web_url = f"http://{HOST}:{args.idp_port}", f"http://{HOST}:{args.web_port}"
    try:
        text = seed.read_text(encoding="utf-8")
        facts = demo_facts(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"demo: cannot read the seed file {seed}: {exc}", file=sys.stderr)
        return 2
    # The web service's callback names the IdP's port (one per issuer, R26): register it.
    served_seed = state_dir / "seed.toml"
    fd = open_private(served_seed, os.O_WRONLY | os.O_TRUNC, exclusive=False)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(seed_with_callback(text, web_callback(web_url, idp_url), like_port=SEED_WEB_PORT))
    idp_env, web_env = environments(state_dir, args.idp_port, args.web_port, served_seed, os.environ)

    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_stop)
    procs: list[subprocess.Popen] = []
    sockets: dict[str, socket.socket] = {}
    try:
        sockets = reserve_ports({"IDP_PORT": args.idp_port, "WEB_PORT": args.web_port})
        preexec = die_with_parent()
        for spec, variable, env, config in (
                ("mock_idp:create_app()", "IDP_PORT", idp_env, IDP_CONFIG),
                ("service:create_app()", "WEB_PORT", web_env, WEB_CONFIG)):
            fd = sockets[variable].fileno()
            command = gunicorn_command(spec, f"fd://{fd}", args.workers, config)
            procs.append(subprocess.Popen(command, env=env,
                                          pass_fds=(fd,), start_new_session=True,
                                          preexec_fn=preexec))
            sockets.pop(variable).close()  # gunicorn holds it now: the port closes with it
        wait_healthy(idp_url + "/healthz", procs[0], args.timeout)
        wait_healthy(web_url + "/healthz", procs[1], args.timeout)
        cli = cli_lines(facts, idp_url, (args.idp_port, args.web_port), state_dir / "config.toml",
                        gclogin_command())
        _say(banner(web_url, idp_url, facts, state_dir, seed, cli))
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        _say("demo: a server exited unexpectedly; stopping", err=True)
        return 1
    except _Stop:
        _say("demo: stopping")
        return 0
    except DemoError as exc:
        _say(f"demo: {exc}", err=True)
        return 1
    finally:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        for sock in sockets.values():
            sock.close()
        for proc in reversed(procs):
            stop(proc)


if __name__ == "__main__":
    sys.exit(run())
