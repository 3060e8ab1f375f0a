"""A separate process that saves profiles, for the concurrency and fault tests.

    python -m tests.robustness.store_driver CONFIG NAME [--wait]

Saves one client-credentials profile NAME into CONFIG. With --wait it imports
everything, prints "ready" and saves only when a line arrives on stdin (so many
writers can be released at once). A documented error (GcloginError) prints its
one-line message and exits 1; anything else is a traceback and exit 2.
"""
from __future__ import annotations

import sys
import traceback

from service.config_store import ConfigStore
from service.errors import GcloginError
from service.profiles import GrantType, Profile


def profile_for(name: str) -> Profile:
    """The profile a writer named `name` saves (the tests recompute it to compare)."""
    return Profile(name=name, grant_type=GrantType.CLIENT_CREDENTIALS,
                   client_id=f"client-{name}", client_secret=f"secret-{name}",
                   environment="mypurecloud.com")


def main(argv: list[str]) -> int:
    config, name = argv[0], argv[1]
    store = ConfigStore(config)
    profile = profile_for(name)
    if "--wait" in argv:
        print("ready", flush=True)
        sys.stdin.readline()
    try:
        store.save(profile)
    except GcloginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception:  # not a documented error: show it all, with a distinct code
        traceback.print_exc()
        return 2
    print("saved", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
