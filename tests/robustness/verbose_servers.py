"""Servers at their most verbose: gunicorn with debug logging and access logs on."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from devtools.servers import REPO, free_port, stop_process, wait_http


@contextlib.contextmanager
def verbose_gunicorn(app_spec: str, env: Mapping[str, str], log: Path, workers: int = 2,
                     port: int | None = None, extra_args: Sequence[str] = ()) -> Iterator[str]:
    """`gunicorn --log-level debug --access-logfile -` on a free loopback port; yields its URL.

    The access format is ours (service/gunicorn_settings.py: path without its query,
    status, User-Agent), from ./gunicorn.conf.py or the config in extra_args: what an
    operator running the repository's settings would turn on.
    """
    port = port or free_port()
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--log-level", "debug", "--access-logfile", "-", "--error-logfile", "-",
           "--graceful-timeout", "5", *extra_args, app_spec]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=REPO, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", timeout=30, proc=proc)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(proc)
