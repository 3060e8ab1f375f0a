"""The GENESYSCLOUD_BROWSER program the suite gives a client: it hands the URL to the suite.

Run as `python -m gclogin_conformance.client.hand_over FILE URL`: appends URL to FILE
(a private file in the suite's run directory), where the suite's person picks it up.
"""
from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: hand_over FILE URL", file=sys.stderr)
        return 2
    fd = os.open(argv[0], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(argv[1] + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
