"""Reads and writes of config.toml that never lose data.

Writes are read-modify-write under an fcntl lock (``config.toml.lock`` beside the file),
go to a temporary file in the same directory that is fsynced and renamed over the old one
(then the directory is fsynced), and leave the file 0600 in a 0700 directory (R28).
A malformed file is never overwritten.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import ParseError, TOMLKitError
from tomlkit.toml_document import TOMLDocument

from .errors import ConfigError, ConfigParseError, ProfileNotFoundError
from .profiles import Profile, load_profiles, profile_from_table, remove_profile, set_profile

CONFIG_ENV = "GCLOGIN_CONFIG"


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$GCLOGIN_CONFIG`` or ``~/.gc/config.toml``."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".gc" / "config.toml"


def permission_warnings(path: Path) -> list[str]:
    """Warnings for a config file or directory others can read or write."""
    out = []
    for target, wanted in ((path.parent, 0o700), (path, 0o600)):
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            out.append(f"warning: {target} is {mode:04o}; it holds secrets and should be {wanted:04o}")
    return out


_QUOTED_CHAR_RE = re.compile(r"\s*'.'")
_TOMLLIB_AT_RE = re.compile(r"^(.*?) \(at line (\d+), column (\d+)\)$")


def parse_document(text: str, path: Path | str) -> TOMLDocument:
    """Parse config text; errors name the file, line and column, never a value (R25)."""
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        reason = _QUOTED_CHAR_RE.sub("", str(exc).split(" at line ")[0])  # not even one char of a secret
        raise ConfigParseError(path, exc.line, exc.col, reason) from None
    except (TOMLKitError, ValueError, TypeError, KeyError, IndexError, RecursionError):
        # e.g. KeyAlreadyPresent, which tomlkit raises without a position: ask tomllib where
        line, col, reason = _locate_error(text)
        raise ConfigParseError(path, line, col, reason) from None


def _locate_error(text: str) -> tuple[int, int, str]:
    """(line, column, reason) of the first TOML error, from the stdlib parser."""
    import tomllib  # only on this error path
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOMLLIB_AT_RE.match(str(exc))
        if match:
            reason = match.group(1)
            if reason == "Cannot overwrite a value":
                reason = "a key or table is defined twice"
            return int(match.group(2)), int(match.group(3)), reason
        return 1, 1, str(exc).split(" (at ")[0]
    except RecursionError:
        return 1, 1, "nested too deeply"
    return 1, 1, "not a TOML document this program can edit"


class ConfigStore:
    """One config.toml. Cheap to create; holds no state besides its path."""

    def __init__(self, path: Path | str | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.path = Path(path) if path is not None else default_config_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._warn = warn

    # -- reading ------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> TOMLDocument:
        """The parsed document (empty if the file doesn't exist)."""
        if self._warn:
            for line in permission_warnings(self.path):
                self._warn(line)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return tomlkit.document()
        except UnicodeDecodeError:
            raise ConfigError(f"{self.path}: not UTF-8 text", self.path) from None
        except OSError as exc:
            raise ConfigError(f"{self.path}: {exc.strerror}", self.path) from None
        return parse_document(text, self.path)

    def profiles(self) -> dict[str, Profile]:
        return load_profiles(self.load())

    def names(self) -> list[str]:
        """Profile names without validating their contents (for listings)."""
        return [name for name, item in self.load().items() if isinstance(item, dict)]

    def get(self, name: str) -> Profile:
        doc = self.load()
        item = doc.get(name)
        if not isinstance(item, dict):
            raise ProfileNotFoundError(name, self.path)
        return profile_from_table(name, item)

    # -- writing ------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[TOMLDocument]:
        """Lock, load, let the caller edit the document, then write it atomically.

        An OS error (read-only or full disk, permissions) becomes a ConfigError naming
        the file; the old file is then untouched and no temporary file is left.
        """
        with self._os_errors("cannot write"):
            self._ensure_dir()
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with self._os_errors("cannot lock"):
                fcntl.flock(fd, fcntl.LOCK_EX)
            doc = self.load()
            before = doc.as_string()
            yield doc
            after = doc.as_string()
            if after != before or not self.path.exists():
                with self._os_errors("cannot write"):
                    self._write(after)
        finally:
            os.close(fd)  # closing releases the lock

    @contextlib.contextmanager
    def _os_errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise ConfigError(f"{self.path}: {doing}: {exc.strerror or type(exc).__name__}",
                              self.path) from None

    def save(self, profile: Profile) -> None:
        """Add or replace one profile; every other byte of the file survives."""
        with self.transaction() as doc:
            set_profile(doc, profile)

    def delete(self, name: str) -> None:
        with self.transaction() as doc:
            if not remove_profile(doc, name):
                raise ProfileNotFoundError(name, self.path)

    def _ensure_dir(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)

    def _write(self, text: str) -> None:
        directory = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
