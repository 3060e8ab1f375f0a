"""Fixed durations, connection counts and run counts, so two runs measure the same thing."""
from __future__ import annotations

import importlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]

# What we assume when compose.yaml does not say (gunicorn's own default is 1 worker).
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 1


@dataclass(frozen=True)
class Settings:
    """One benchmark plan; FULL for `make bench`, SMOKE for `make test`."""

    name: str
    wrk_rounds: int  # each round measures every server once, so load drift hits all alike
    wrk_duration_s: int
    wrk_warmup_s: int
    wrk_connections: int
    wrk_threads: int
    cli_runs: int
    cli_warmup_runs: int
    login_runs: int
    login_warmup: bool
    login_timeout_s: float


# Six short rounds rather than three long ones: on a shared machine a burst of load from
# elsewhere spoils one round, and the median over rounds leaves it out.
FULL = Settings(name="full", wrk_rounds=6, wrk_duration_s=4, wrk_warmup_s=1,
                wrk_connections=32, wrk_threads=2, cli_runs=30, cli_warmup_runs=3,
                login_runs=10, login_warmup=True, login_timeout_s=30.0)
SMOKE = Settings(name="smoke", wrk_rounds=1, wrk_duration_s=2, wrk_warmup_s=0,
                 wrk_connections=8, wrk_threads=1, cli_runs=2, cli_warmup_runs=0,
                 login_runs=1, login_warmup=False, login_timeout_s=30.0)


@dataclass(frozen=True)
class GunicornSettings:
    """The worker model the mock ships with, and where that came from."""

    workers: int
    threads: int
    worker_class: str
    config: str | None  # gunicorn's --config as compose gives it, e.g. "python:mock_idp.gunicorn_conf"
    source: str

    def args(self) -> list[str]:
        """Flags that start a server this way (the test helper adds --workers and --threads).

        The same --config for the ceiling too: its hooks are part of the worker model.
        """
        return [*(("--config", self.config) if self.config else ()),
                "--worker-class", self.worker_class]


_FLAGS = {"--workers": "workers", "-w": "workers", "--threads": "threads",
          "--worker-class": "worker_class", "-k": "worker_class", "--config": "config", "-c": "config"}


class ComposeError(ValueError):
    """A compose file the bench cannot read: it will not guess the settings."""


def compose_command(text: str, service: str = "idp", source: str = "compose") -> list[str] | None:
    """The command of `service` in a compose file; None if the file or service has none.

    As compose takes it: a list of strings, or a string split as a shell would split it.
    ComposeError (naming `source`, and the line for a YAML error) for anything else.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise ComposeError(f"{source}{where}: not valid YAML ({problem})") from None
    services = document.get("services") if isinstance(document, dict) else None
    if services is None:
        return None
    if not isinstance(services, dict):
        raise ComposeError(f"{source}: 'services' must be a mapping of service names")
    entry = services.get(service)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise ComposeError(f"{source}: service {service} must be a mapping")
    command = entry.get("command")
    if command is None:
        return None
    if isinstance(command, str):
        return shlex.split(command)
    if isinstance(command, list) and all(isinstance(a, str) for a in command):
        return command
    raise ComposeError(f"{source}: cannot read service {service}'s command ({command!r:.40}): "
                       "compose takes a list of strings or a string")


def gunicorn_flags(command: list[str]) -> dict[str, str]:
    """--workers, --threads, --worker-class and --config in a gunicorn command, the last
    one winning, as gunicorn's argparse reads them: `--flag value`, `--flag=value`,
    `-w value`, `-w=4`, `-w4`. A flag whose value is missing or another flag is left out."""
    found: dict[str, str] = {}
    i = 0
    while i < len(command):
        arg = command[i]
        flag, eq, value = arg.partition("=")
        following = command[i + 1] if i + 1 < len(command) else None
        if flag in _FLAGS and eq:
            found[_FLAGS[flag]] = value
        elif arg in _FLAGS:
            if following is not None and not following.startswith("-"):
                found[_FLAGS[arg]] = following
                i += 1
        elif arg[:2] in _FLAGS and not arg.startswith("--") and len(arg) > 2:
            found[_FLAGS[arg[:2]]] = arg[2:]
        i += 1
    return found


def resolve(flags: Mapping[str, str], config: Mapping[str, Any]) -> tuple[int, int, str]:
    """Workers, threads and worker class as gunicorn settles them: its defaults (1, 1,
    sync), then the config module's globals, then the command's flags; sync workers with
    more than one thread are gthread workers (gunicorn switches)."""
    merged = {"workers": 1, "threads": 1, "worker_class": "sync"}
    merged.update({k: config[k] for k in merged if k in config})
    merged.update({k: flags[k] for k in merged if k in flags})
    workers, threads, worker_class = int(merged["workers"]), int(merged["threads"]), str(merged["worker_class"])
    if worker_class == "sync" and threads > 1:
        worker_class = "gthread"
    return workers, threads, worker_class


def load_config(config: str) -> dict[str, Any]:
    """The globals of a gunicorn config given as `python:module`, the form compose uses
    (a file path there would name the image's file, not the repository's)."""
    if not config.startswith("python:"):
        raise ComposeError(f"compose: the bench reads a gunicorn --config given as "
                           f"python:module, not {config!r}")
    return vars(importlib.import_module(config.removeprefix("python:")))


def shipped_gunicorn_settings(compose: Path = REPO / "compose.yaml") -> GunicornSettings:
    """The idp service's settings in compose.yaml, or the documented assumption when it
    has no command."""
    try:
        command = compose_command(compose.read_text(encoding="utf-8"), source=compose.name)
    except FileNotFoundError:
        command = None
    if command is None:
        return GunicornSettings(DEFAULT_WORKERS, DEFAULT_THREADS, "sync", None,
                                f"assumed: {compose.name} has no idp command")
    flags = gunicorn_flags(command)
    config = flags.get("config")
    workers, threads, worker_class = resolve(flags, load_config(config) if config else {})
    given = f": --config {config}" if config else ""
    return GunicornSettings(workers, threads, worker_class, config,
                            f"{compose.name}, service idp{given}")
