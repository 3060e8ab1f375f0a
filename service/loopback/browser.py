"""Opening the login page. Never fatal: the URL is always printed as well.

``GENESYSCLOUD_BROWSER`` names the program to run (as gc does on Linux); set to an empty
string it disables opening (useful in tests and over SSH).
"""
from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping

BROWSER_ENV = "GENESYSCLOUD_BROWSER"


def open_browser(url: str, env: Mapping[str, str] | None = None) -> bool:
    """Try to open url; True if a browser was started."""
    env = os.environ if env is None else env
    if BROWSER_ENV in env:
        program = env[BROWSER_ENV].strip()
        if not program:
            return False
        try:
            subprocess.Popen([*shlex.split(program), url], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        except (OSError, ValueError):
            return False
        return True
    import webbrowser
    try:
        return webbrowser.open(url, new=1)
    except webbrowser.Error:
        return False
