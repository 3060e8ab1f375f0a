"""Files that hold secrets: 0600 in a 0700 directory (R28), never opened through a symlink.

One place for the modes and flags, so the config store, the web service's key and
pending-login files, the loopback certificate and the dev tools cannot drift apart.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigError

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


class UnsafePathError(ConfigError):
    """A directory or file for secrets that someone else owns or could have replaced."""


def owned_private_dir(path: Path | str) -> Path:
    """``path`` as a 0700 directory of ours, or UnsafePathError.

    A directory another user created first (``/tmp/mock-idp-<uid>`` made 0777 by someone
    else), or a symlink there, is refused: whoever owns it can swap the files inside. One
    of ours with looser modes is tightened.
    """
    path = private_dir(path)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise UnsafePathError(f"{path} is not a directory owned by you (it may have been planted): refused; "
                              "remove it or choose another location", path)
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, DIR_MODE)
    return path


def own_private_file(path: Path | str, flags: int = os.O_RDWR) -> int:
    """A descriptor for ``path`` (created if missing), never through a symlink, checked to be
    ours and set to 0600 (a pre-existing 0644 file holding a signing key is tightened).
    UnsafePathError if another user owns it."""
    fd = open_private(path, flags, exclusive=False)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            raise UnsafePathError(f"{path} is not a file owned by you: refused; remove it", path)
        if stat.S_IMODE(info.st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


__all__ = ["DIR_MODE", "FILE_MODE", "UnsafePathError", "open_private", "own_private_file",
           "owned_private_dir", "private_dir"]
