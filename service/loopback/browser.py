"""Opening the login page. Never fatal: the URL is always printed as well.

``GENESYSCLOUD_BROWSER`` names the program to run (as gc does on Linux); set to an empty
string it disables opening (useful in tests and over SSH). A program that cannot be
started, or that exits with an error at once, is reported (gc fails and never prints the
URL); the caller then prints the URL to open by hand.
"""
from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Mapping

from ..untrusted import printable

BROWSER_ENV = "GENESYSCLOUD_BROWSER"
#: seconds a started browser program is given to fail at once (xdg-open with no browser
#: exits within this; a real browser keeps running, or hands off and exits 0)
EARLY_EXIT_WAIT = 0.5


def open_browser(url: str, env: Mapping[str, str] | None = None,
                 report: Callable[[str], None] | None = None) -> bool:
    """Try to open url; True if a browser was started. ``report`` gets one line saying why not."""
    env = os.environ if env is None else env
    say = report or (lambda line: None)
    if BROWSER_ENV in env:
        program = env[BROWSER_ENV].strip()
        if not program:
            return False
        shown = printable(program, 80)
        try:
            proc = subprocess.Popen([*shlex.split(program), url], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            say(f"Could not start the browser program {shown!r} ({BROWSER_ENV}): {reason}.")
            return False
        try:
            status = proc.wait(timeout=EARLY_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            return True  # still running: it has the page
        if status != 0:
            say(f"The browser program {shown!r} ({BROWSER_ENV}) exited with status {status}.")
            return False
        return True
    import webbrowser
    try:
        if webbrowser.open(url, new=1):
            return True
    except webbrowser.Error as exc:
        say(f"Could not open a browser: {printable(exc, 120)}.")
        return False
    say(f"No browser could be started (set {BROWSER_ENV} to the program to use).")
    return False
