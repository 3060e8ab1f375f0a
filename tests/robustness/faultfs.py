"""Directories that fail on purpose: read-only, or with no space left.

The tests run as root on CI, and root ignores permission bits, so a chmod is not
enough: a small tmpfs mounted (and remounted read-only) gives the real EROFS /
ENOSPC. Where mounting is not allowed, the fallback chmods the directory 0500 and
starts the writer without CAP_DAC_OVERRIDE (so root obeys the mode), or caps the
file size with RLIMIT_FSIZE (full) in the subprocess that writes.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


@dataclass
class FaultDir:
    """A directory plus how a writer subprocess must be started to meet the fault."""

    path: Path
    how: str                                   # "tmpfs" | "capdrop" | "rlimit" | "chmod"
    preexec: Callable[[], None] | None = None  # applied in the writer before exec
    extra: dict = field(default_factory=dict)


def _mount_tmpfs(target: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                             str(target)], capture_output=True, timeout=10)
    return result.returncode == 0


def _umount(target: Path) -> None:
    result = subprocess.run(["umount", str(target)], capture_output=True, timeout=10)
    if result.returncode != 0:
        subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=10)


def _fill(directory: Path) -> int:
    """Write a filler file until the filesystem is full; returns bytes written."""
    written = 0
    chunk = b"\0" * 4096
    with open(directory / ".filler", "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    # Anything smaller than a page may still fit: take that too.
    with open(directory / ".filler2", "wb", buffering=0) as f:
        for size in (1024, 256, 64, 16, 1):
            while True:
                try:
                    written += f.write(b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return written


@contextlib.contextmanager
def readonly_dir(base: Path, populate: Callable[[Path], None], mount: bool = True) -> Iterator[FaultDir]:
    """A directory, first populated by populate(path), that writers cannot change.

    mount=False skips the tmpfs and uses the fallback (so both paths stay tested).
    """
    target = base / "ro"
    target.mkdir()
    if mount and _mount_tmpfs(target, "1m"):
        try:
            populate(target)
            subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True,
                           capture_output=True, timeout=10)
            yield FaultDir(target, "tmpfs")
        finally:
            _umount(target)
        return
    populate(target)
    target.chmod(0o500)
    try:
        if os.geteuid() == 0:
            yield FaultDir(target, "capdrop", preexec=_drop_dac_override)
        else:
            yield FaultDir(target, "chmod")
    finally:
        target.chmod(0o700)


def _drop_dac_override() -> None:
    """In the child before exec: root loses the right to ignore file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@contextlib.contextmanager
def full_dir(base: Path, populate: Callable[[Path], None], mount: bool = True) -> Iterator[FaultDir]:
    """A directory, first populated by populate(path), with no space left to write.

    mount=False skips the tmpfs and uses the RLIMIT_FSIZE fallback.
    """
    target = base / "full"
    target.mkdir()
    if mount and _mount_tmpfs(target, "256k"):
        try:
            populate(target)
            _fill(target)
            yield FaultDir(target, "tmpfs")
        finally:
            _umount(target)
        return
    populate(target)
    # Any file the writer creates may hold at most 16 bytes: the atomic write's
    # temporary file fails exactly as on a full disk (EFBIG instead of ENOSPC).
    yield FaultDir(target, "rlimit", preexec=_limit_file_size(16))
