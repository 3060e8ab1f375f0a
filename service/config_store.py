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

from .errors import ConfigError, ConfigParseError, InvalidValueError, ProfileNotFoundError
from .private_files import open_private, private_dir
from .profiles import Profile, profile_from_table, remove_profile, set_profile

CONFIG_ENV = "GCLOGIN_CONFIG"


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$GCLOGIN_CONFIG`` or ``~/.gc/config.toml``."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".gc" / "config.toml"


def check_config_dir(directory: Path, *, ours: bool) -> None:
    """The directory config.toml lives in, made safe or refused (as ssh's StrictModes).

    ``ours`` (gc's ``~/.gc``, which gc itself leaves 0755): tightened to 0700 when we own
    it. Any other directory others may write to (group or world) could have config.toml
    swapped under us: ConfigError with the one command that fixes it.
    """
    try:
        info = directory.stat()
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(info.st_mode)
    owned = info.st_uid == os.geteuid()
    if ours and owned and mode & 0o077:
        try:
            os.chmod(directory, 0o700)
            return
        except OSError:
            pass
    if mode & 0o022:
        fix = f"chmod go-w {directory}" if owned else f"move the file to a directory only you can write ({CONFIG_ENV})"
        raise ConfigError(f"{directory} is writable by others ({mode:04o}), who could replace the profiles "
                          f"and their secrets: refused; fix: {fix}", directory)


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


def with_final_newline(text: str) -> str:
    """``text`` ending in a newline (pure).

    tomlkit appends a new key right after the last character of the document; if the
    last line (e.g. a dotted key ``work.proxy.path = "/x"``) has no newline, the new key
    lands on that same line and the result is not TOML. Parsing the text with its final
    newline makes every later edit start on a fresh line. Line numbers are unchanged.
    """
    return text if not text or text.endswith("\n") else text + "\n"


UNTERMINATED_STRING = ("unterminated string: a quoted value must end on the line it starts "
                       "(add the closing quote)")


def readable_parse_reason(reason: str) -> str:
    """tomlkit's reason, except where it misleads: a missing closing quote reads as a
    'control character' (the line's newline) with a hint to write \\u000a."""
    if reason.startswith("Control characters") and "\\u000a" in reason:
        return UNTERMINATED_STRING
    return reason


def parse_document(text: str, path: Path | str) -> TOMLDocument:
    """Parse config text; errors name the file, line and column, never a value (R25).

    The document is parsed with a final newline (with_final_newline), so editing it
    never glues two keys together.
    """
    try:
        doc = tomlkit.parse(with_final_newline(text))
        # tomlkit builds tables declared out of order only when they are first read, and
        # only then finds a key declared twice (`[x]` `a = 1` ... `[x.a]`): read them all now.
        doc.unwrap()
        return doc
    except ParseError as exc:
        reason = readable_parse_reason(_QUOTED_CHAR_RE.sub("", str(exc).split(" at line ")[0]))  # no secret
        raise ConfigParseError(path, exc.line, exc.col, reason) from None
    except (TOMLKitError, ValueError, TypeError, KeyError, IndexError, RecursionError):
        # e.g. KeyAlreadyPresent, which tomlkit raises without a position: ask tomllib where
        line, col, reason = _locate_error(text)
        raise ConfigParseError(path, line, col, reason) from None


def check_rewrite(text: str, doc: TOMLDocument, path: Path | str) -> None:
    """Refuse to write ``text`` unless it parses back to exactly the values of ``doc``.

    tomlkit renders edits to a document it parsed (comments, dotted keys, super-tables
    kept as they were); if a rendering ever came out invalid or read back differently,
    writing it would lose the user's file. The error names the file; nothing is written.
    """
    try:
        again = tomlkit.parse(text)
        same = _same_values(again.unwrap(), doc.unwrap())
    except Exception:  # noqa: BLE001 - any failure to read it back means: don't write it
        same = False
    if not same:
        raise ConfigError(
            f"{path}: not saved: the edited file would not read back as written (a TOML formatting "
            "problem in this file's layout); the file is unchanged", path)


def _same_values(a: object, b: object) -> bool:
    """Deep equality of unwrapped TOML values, with nan equal to nan."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_values(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_values(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b


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
    """One config.toml. Cheap to create; holds its path and whether it has warned yet."""

    def __init__(self, path: Path | str | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.path = Path(path) if path is not None else default_config_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._warn = warn
        self._warned = False

    def _check_usable(self) -> None:
        """A directory given as the config file is an error, before any warning or lock file."""
        if self.path.is_dir():
            raise ConfigError(f"{self.path} is a directory; --config or GCLOGIN_CONFIG must name "
                              "a file (e.g. ~/.gc/config.toml)", self.path)

    # -- reading ------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> TOMLDocument:
        """The parsed document (empty if the file doesn't exist).

        Looser permissions are warned about once per store.
        """
        self._check_usable()
        check_config_dir(self.path.parent, ours=self._is_gc_dir())
        if self._warn and not self._warned:
            self._warned = True
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
        """Every profile; the first invalid one raises InvalidValueError naming this file."""
        out: dict[str, Profile] = {}
        for name, result in self.profile_results().items():
            if isinstance(result, InvalidValueError):
                raise result
            out[name] = result
        return out

    def profile_results(self) -> dict[str, Profile | InvalidValueError]:
        """Each profile, or the error (naming this file) that keeps it from loading.

        For listings: one bad profile doesn't hide the others.
        """
        out: dict[str, Profile | InvalidValueError] = {}
        for name, item in self.load().items():
            if isinstance(item, dict):
                try:
                    out[name] = self._checked(profile_from_table(name, item))
                except InvalidValueError as exc:
                    out[name] = exc.in_file(self.path)
        return out

    def valid_profiles(self) -> list[Profile]:
        """The profiles that load, without warnings: for checks across profiles, which one
        bad profile must not block (the profile in use warns on its own)."""
        out: list[Profile] = []
        for name, item in self.load().items():
            if isinstance(item, dict):
                with contextlib.suppress(InvalidValueError):
                    out.append(profile_from_table(name, item))
        return out

    def names(self) -> list[str]:
        """Profile names without validating their contents (for listings)."""
        return [name for name, item in self.load().items() if isinstance(item, dict)]

    def get(self, name: str) -> Profile:
        doc = self.load()
        item = doc.get(name)
        if not isinstance(item, dict):
            raise ProfileNotFoundError(name, self.path,
                                       existing=[n for n, v in doc.items() if isinstance(v, dict)])
        try:
            return self._checked(profile_from_table(name, item))
        except InvalidValueError as exc:
            raise exc.in_file(self.path) from None

    def _checked(self, profile: Profile) -> Profile:
        """Warn (one line, naming file and key) about a cached token that can't be read."""
        if profile.token_error and self._warn:
            self._warn(f"warning: {self.path}: profile {profile.name!r}: {profile.token_error}; "
                       "ignoring the cached token")
        return profile

    # -- writing ------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[TOMLDocument]:
        """Lock, load, let the caller edit the document, then write it atomically.

        An OS error (read-only or full disk, permissions) becomes a ConfigError naming
        the file; the old file is then untouched and no temporary file is left. So does
        an edit that would not read back as made (check_rewrite): nothing is written.
        """
        self._check_usable()
        with self._os_errors("cannot write"):
            self._ensure_dir()
            fd = open_private(self.lock_path, os.O_RDWR, exclusive=False)
        try:
            with self._os_errors("cannot lock"):
                fcntl.flock(fd, fcntl.LOCK_EX)
            doc = self.load()
            before = doc.as_string()
            yield doc
            after = doc.as_string()
            if after != before or not self.path.exists():
                check_rewrite(after, doc, self.path)
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
            try:
                set_profile(doc, profile)
            except InvalidValueError as exc:
                raise exc.in_file(self.path) from None

    def delete(self, name: str) -> None:
        with self.transaction() as doc:
            if not remove_profile(doc, name):
                raise ProfileNotFoundError(name, self.path)

    def _ensure_dir(self) -> None:
        private_dir(self.path.parent)
        check_config_dir(self.path.parent, ours=self._is_gc_dir())

    def _is_gc_dir(self) -> bool:
        """gc's own ``~/.gc``: safe to tighten (no other program keeps files there)."""
        return self.path.parent.name == ".gc"

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
