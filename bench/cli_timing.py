"""Wall time of short CLI commands, next to `python -c pass` on the same interpreter."""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


class CommandFailed(RuntimeError):
    """A timed command exited non-zero: its time would mean nothing."""


@dataclass(frozen=True)
class Timing:
    label: str
    runs_ms: list[float] = field(repr=False)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    def to_json(self) -> dict:
        return {"label": self.label, "runs": len(self.runs_ms), "median_ms": self.median_ms,
                "min_ms": min(self.runs_ms), "max_ms": max(self.runs_ms)}


def compile_bytecode(*packages: Path) -> None:
    """Write the packages' .pyc files, as pip does when it installs a wheel.

    An editable checkout gets them on first import, unless PYTHONDONTWRITEBYTECODE is set
    (it is on some machines): then every timed run would compile the changed modules
    again (about 20 ms for the CLI here), which no installed gclogin does.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, packages)],
                   stdout=subprocess.DEVNULL, timeout=300, check=True)


def time_commands(commands: Mapping[str, tuple[str, Sequence[str]]], env: Mapping[str, str],
                  runs: int, warmup: int = 0, timeout: float = 30.0) -> dict[str, Timing]:
    """Per command (key -> (label, argv)), `runs` timed runs after `warmup` discarded ones.

    The commands take turns, run after run, so a change in the machine's load reaches
    the floor and the commands measured against it alike. Output is discarded.
    """
    samples: dict[str, list[float]] = {key: [] for key in commands}
    for i in range(warmup + runs):
        for key, (label, argv) in commands.items():
            elapsed = _run_once(label, argv, env, timeout)
            if i >= warmup:
                samples[key].append(elapsed)
    return {key: Timing(commands[key][0], runs_ms) for key, runs_ms in samples.items()}


def _run_once(label: str, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> float:
    start = time.perf_counter()
    done = subprocess.run(list(argv), env=dict(env), stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=timeout, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        # stderr is the CLI's one-line error, which by contract holds no secret.
        raise CommandFailed(f"{label} exited {done.returncode}: "
                            f"{done.stderr.decode(errors='replace').strip()[:300]}")
    return elapsed


def gclogin(*args: str) -> list[str]:
    return [str(VENV_BIN / "gclogin"), *args]


def floor() -> list[str]:
    return [sys.executable, "-c", "pass"]
