"""`python -m bench [--smoke] [--out DIR]`; exits 1 when a part could not be measured."""
from __future__ import annotations

import argparse
from pathlib import Path

from bench.run import main
from bench.settings import FULL, SMOKE, REPO

parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
parser.add_argument("--smoke", action="store_true", help="seconds-long run (what `make test` does)")
parser.add_argument("--out", type=Path, default=REPO / "reports", help="report directory")
args = parser.parse_args()
raise SystemExit(main(SMOKE if args.smoke else FULL, args.out))
