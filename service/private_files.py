"""Files that hold secrets: 0600 in a 0700 directory (R28), never opened through a symlink.

One place for the modes and flags, so the config store, the web service's key and
pending-login files, the loopback certificate and the dev tools cannot drift apart.
"""
from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path | str, *, tighten_existing: bool = False) -> Path:
    """Make ``path`` (and missing parents) a 0700 directory.

    A directory created here is chmod-ed as well, in case the umask takes owner bits away.
    An existing one is left as it is (the config store warns about it instead) unless
    ``tighten_existing``, for directories only this program uses.
    """
    path = Path(path)
    created = not path.exists()
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if created or tighten_existing:
        os.chmod(path, DIR_MODE)
    return path


def open_private(path: Path | str, flags: int = os.O_WRONLY, *, exclusive: bool = True) -> int:
    """A descriptor for ``path``, created 0600 (``exclusive``: it must not exist yet).

    O_NOFOLLOW refuses a symlink planted at ``path``; O_CLOEXEC keeps the descriptor out
    of the browser and other programs we start.
    """
    flags |= os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_EXCL if exclusive else 0)
    return os.open(path, flags, FILE_MODE)


__all__ = ["DIR_MODE", "FILE_MODE", "open_private", "private_dir"]
