"""`make soak`: the full mock-IdP load run; prints its figures as JSON and fails on a breach.

    python -m tests.robustness.soak --seconds 60 --workers 2
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime, UTC
from pathlib import Path

from .idp_load import soak

RSS_LIMIT = 0.20


def breaches(figures: dict) -> list[str]:
    """What the figures show is wrong (empty when all is well)."""
    out = []
    for phase in ("steady", "kill"):
        if figures[phase]["server_errors"]:
            out.append(f"{phase}: {figures[phase]['server_errors']} responses were 5xx")
        if figures[phase]["unexpected"]:
            out.append(f"{phase}: unexpected statuses {figures[phase]['unexpected']}")
    if figures["steady"]["connection_failures"]:
        out.append(f"steady: connection failures {figures['steady']['connection_failures']}")
    for pid, growth in figures["rss_growth"].items():
        if growth > RSS_LIMIT:
            out.append(f"worker {pid}: RSS grew {growth:.0%} after warm-up (limit {RSS_LIMIT:.0%})")
    if len(figures["rss_growth"]) != figures["workers"]:
        out.append(f"RSS not sampled for every worker: {figures['rss_kib']}")
    if figures["kill"]["tokens_invalid"]:
        out.append(f"{figures['kill']['tokens_invalid']} issued tokens invalid after the worker kill")
    if figures["restart"]["tokens_invalid"]:
        out.append(f"{figures['restart']['tokens_invalid']} tokens invalid after the restart")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="steady-traffic duration")
    parser.add_argument("--kill-seconds", type=float, default=15.0, help="traffic around the worker kill")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="load-generator threads")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gclogin-soak-") as tmp:
        figures = soak(args.seconds, args.kill_seconds, Path(tmp), threads=args.threads,
                       workers=args.workers)
    figures["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(json.dumps(figures, indent=2))
    problems = breaches(figures)
    for line in problems:
        print(f"soak: FAIL: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
