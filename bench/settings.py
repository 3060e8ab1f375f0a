"""Fixed durations, connection counts and run counts, so two runs measure the same thing."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
    """The worker model the mock ships with, and where that figure came from."""

    workers: int
    threads: int
    source: str


_WORKERS = re.compile(r"(?:--workers|-w)[=\s\"',]+(\d+)")
_THREADS = re.compile(r"--threads[=\s\"',]+(\d+)")
_SERVICE = re.compile(r"^  (\w[\w.-]*):\s*$", re.MULTILINE)


def gunicorn_settings_from_compose(text: str, service: str = "idp") -> tuple[int, int] | None:
    """Workers and threads given to gunicorn by `service` in a compose file, if it says.

    Reads the service's block textually (command as a string or a list); a missing
    --threads means gunicorn's default of 1.
    """
    starts = [(m.group(1), m.start()) for m in _SERVICE.finditer(text)]
    for i, (name, start) in enumerate(starts):
        if name != service:
            continue
        end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
        block = text[start:end]
        workers = _WORKERS.search(block)
        if workers is None:
            return None
        threads = _THREADS.search(block)
        return int(workers.group(1)), int(threads.group(1)) if threads else 1
    return None


def shipped_gunicorn_settings(compose: Path = REPO / "compose.yaml") -> GunicornSettings:
    """The settings in compose.yaml, or the documented assumption when it has none."""
    try:
        found = gunicorn_settings_from_compose(compose.read_text(encoding="utf-8"))
    except FileNotFoundError:
        found = None
    if found is None:
        return GunicornSettings(DEFAULT_WORKERS, DEFAULT_THREADS,
                                f"assumed: {compose.name} has no idp gunicorn settings")
    return GunicornSettings(found[0], found[1], f"{compose.name} (service idp)")
