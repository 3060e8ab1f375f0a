"""Server processes for the demo, the tests and the benchmarks: start in a group, stop the group.

Development tooling only (not installed by ``pip install .``). ``stop`` SIGTERMs the whole
process group (gunicorn and its workers) and SIGKILLs what is left after a grace period.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable

#: The mock IdP's gunicorn settings as compose.yaml ships them; the flags below override
#: only what the demo needs otherwise.
IDP_CONFIG = "python:mock_idp.gunicorn_conf"
WEB_CONFIG = "python:service.web.gunicorn_conf"


def gunicorn_command(app_spec: str, bind: str, workers: int,
                     config: str | None = None) -> list[str]:
    """bind: ``fd://N`` (a socket the launcher bound) or ``host:port``."""
    return [sys.executable, "-m", "gunicorn", *(("--config", config) if config else ()),
            "--bind", bind, "--workers", str(workers), "--graceful-timeout", "5",
            "--timeout", "60", "--no-control-socket", app_spec]


PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGTERM when the launcher dies (Linux).

    Ctrl-C, SIGTERM and SIGHUP are handled by the launcher, which stops the servers; this
    covers the launcher being killed outright. libc is loaded before the fork.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the launcher died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server's process group (gunicorn and its workers), then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)
