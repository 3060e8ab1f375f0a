"""--debug lines without importing logging for them.

If nothing imported logging (the CLI does with --debug; Flask always does), no handler
can be configured, so a record would be dropped anyway: the CLI's start-up stays light.
"""
from __future__ import annotations

import sys


def debug(message: str, *args: object, logger: str = "gclogin") -> None:
    """Log ``message % args`` at debug level, if logging is loaded."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(logger).debug(message, *args)
