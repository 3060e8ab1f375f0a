"""Secret-holding files: 0600 in a 0700 directory, never through a planted symlink (R28)."""
from __future__ import annotations

import os
import stat

import pytest

from service import open_private, private_dir


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_new_directory_is_0700_even_under_a_umask_that_drops_owner_bits(tmp_path):
    old = os.umask(0o277)
    try:
        made = private_dir(tmp_path / "a" / "b")
    finally:
        os.umask(old)
    assert made == tmp_path / "a" / "b" and _mode(made) == 0o700


def test_an_existing_directory_is_tightened_only_when_asked(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    private_dir(shared)
    assert _mode(shared) == 0o755  # the config store warns about it instead
    private_dir(shared, tighten_existing=True)
    assert _mode(shared) == 0o700


def test_files_are_created_0600_and_exclusive_by_default(tmp_path):
    path = tmp_path / "key"
    os.close(open_private(path))
    assert _mode(path) == 0o600
    with pytest.raises(FileExistsError):
        open_private(path)
    fd = open_private(path, os.O_RDWR, exclusive=False)
    try:
        assert not os.get_inheritable(fd)  # O_CLOEXEC: not passed to a browser we start
    finally:
        os.close(fd)


def test_a_planted_symlink_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    link = tmp_path / "lock"
    link.symlink_to(target)
    with pytest.raises(OSError):
        open_private(link, os.O_RDWR, exclusive=False)
    assert target.read_text() == "keep"
