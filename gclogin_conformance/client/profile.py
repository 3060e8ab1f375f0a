"""A client-under-test profile (TOML): how to start a login and how to watch it.

Pure: `parse_profile` reads text and returns a ClientProfile or raises TargetError naming
the file and the field, so a bad profile fails before anything starts.
"""
from __future__ import annotations

import dataclasses
import re
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gclogin_conformance.targets import TargetError

#: what the suite fills in `command`, `prompts` answers and `token_file`
PLACEHOLDERS = ("environment", "client_id", "port", "config", "https", "grant", "home", "python")
GRANTS = ("implicit", "pkce")
BROWSERS = ("env", "stdout", "page")


@dataclasses.dataclass(frozen=True)
class ClientProfile:
    name: str
    source: str
    command: tuple[str, ...] = ()
    browser: str = "env"
    #: browser = "stdout": the authorize URL is the first match (group "url" or the whole match)
    url_pattern: str = r"https?://\S+/oauth/authorize\?\S+"
    prompts: tuple[tuple[str, str], ...] = ()
    token_file: str = ""
    grants: tuple[str, ...] = ("implicit",)
    https: bool = False
    #: browser = "page": a browser app at this URL starts the login itself
    page_url: str = ""


def fill(template: str, values: Mapping[str, str]) -> str:
    """template with {placeholder}s replaced; literal braces are written {{ }}."""
    return string.Formatter().vformat(template, (), dict(values))


def _check_template(template: str, where: str) -> None:
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise TargetError(f"{where}={template!r}: {exc} (write literal braces as {{{{ }}}})") from None
    unknown = sorted(n for n in names if n not in PLACEHOLDERS)
    if unknown:
        raise TargetError(f"{where}={template!r}: unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)};"
                          f" known: {', '.join('{' + n + '}' for n in PLACEHOLDERS)}")


def _str(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise TargetError(f"{where}: {key}: expected a non-empty string, got {value!r}")
    return value


def parse_profile(text: str, source: str) -> ClientProfile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{source}: not valid TOML: {exc}") from None
    known = {f.name for f in dataclasses.fields(ClientProfile)} - {"source"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise TargetError(f"{source}: unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}")
    browser = data.get("browser", "env")
    if browser not in BROWSERS:
        raise TargetError(f"{source}: browser={browser!r}: expected one of {', '.join(BROWSERS)}")
    fields: dict[str, Any] = {"name": _str(data, "name", source, Path(source).stem), "source": source,
                              "browser": browser}
    if browser == "page":
        fields["page_url"] = _str(data, "page_url", source)
        _check_template(fields["page_url"], f"{source}: page_url")
    else:
        command = data.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
            raise TargetError(f"{source}: command: expected a list of non-empty strings (argv), got {command!r}")
        for i, arg in enumerate(command):
            _check_template(arg, f"{source}: command[{i}]")
        fields["command"] = tuple(command)
    if "url_pattern" in data:
        pattern = _str(data, "url_pattern", source)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TargetError(f"{source}: url_pattern={pattern!r}: not a regular expression: {exc}") from None
        fields["url_pattern"] = pattern
    prompts = data.get("prompts", [])
    if not isinstance(prompts, list):
        raise TargetError(f"{source}: prompts: expected a list of [expect-regex, answer] pairs")
    pairs = []
    for i, pair in enumerate(prompts):
        where = f"{source}: prompts[{i}]"
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise TargetError(f"{where}: expected [expect-regex, answer] (two strings), got {pair!r}")
        try:
            re.compile(pair[0])
        except re.error as exc:
            raise TargetError(f"{where}: {pair[0]!r} is not a regular expression: {exc}") from None
        _check_template(pair[1], where)
        pairs.append((pair[0], pair[1]))
    fields["prompts"] = tuple(pairs)
    if "token_file" in data:
        fields["token_file"] = _str(data, "token_file", source)
        _check_template(fields["token_file"], f"{source}: token_file")
    grants = data.get("grants", ["implicit"])
    if not isinstance(grants, list) or not grants or any(g not in GRANTS for g in grants):
        raise TargetError(f"{source}: grants={grants!r}: expected a non-empty list of {', '.join(GRANTS)}")
    fields["grants"] = tuple(grants)
    https = data.get("https", False)
    if not isinstance(https, bool):
        raise TargetError(f"{source}: https={https!r}: expected true or false")
    fields["https"] = https
    return ClientProfile(**fields)


def load_profile(path: str | Path) -> ClientProfile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TargetError(f"{path}: {exc.strerror}") from None
    return parse_profile(text, str(path))
