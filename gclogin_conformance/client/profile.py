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
PLACEHOLDERS = ("environment", "client_id", "client_secret", "port", "config", "https", "grant", "timeout", "home",
                "python")
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
    #: true: every login serves HTTPS ({https} = "true"); a table {on, off} switches it per
    #: login ({https} = on for the HTTPS logins R29 runs, off for the rest): https_values
    https: bool = False
    https_values: tuple[str, ...] = ()   # (off, on), or () when not switched
    #: browser = "page": a browser app at this URL starts the login itself
    page_url: str = ""
    #: the [client_credentials] table: how to run a client-credentials login (R8)
    cc_command: tuple[str, ...] = ()
    cc_prompts: tuple[tuple[str, str], ...] = ()
    cc_env: tuple[tuple[str, str], ...] = ()

    @property
    def serves_https(self) -> bool:
        return self.https or bool(self.https_values)

    def uses(self, placeholder: str) -> bool:
        """Whether the login command or its prompt answers pass {placeholder} to the client."""
        return any(placeholder in _names(t) for t in (*self.command, *(a for _, a in self.prompts)))


#: the profile's TOML keys (the other ClientProfile fields are read from tables)
TOML_KEYS = ("name", "command", "browser", "url_pattern", "prompts", "token_file", "grants", "https", "page_url",
             "client_credentials")
CC_KEYS = ("command", "prompts", "env")


def _names(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def fill(template: str, values: Mapping[str, str]) -> str:
    """template with {placeholder}s replaced; literal braces are written {{ }}."""
    return string.Formatter().vformat(template, (), dict(values))


def _check_template(template: str, where: str) -> None:
    try:
        names = _names(template)
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
    unknown = sorted(set(data) - set(TOML_KEYS))
    if unknown:
        raise TargetError(f"{source}: unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(TOML_KEYS))}")
    browser = data.get("browser", "env")
    if browser not in BROWSERS:
        raise TargetError(f"{source}: browser={browser!r}: expected one of {', '.join(BROWSERS)}")
    fields: dict[str, Any] = {"name": _str(data, "name", source, Path(source).stem), "source": source,
                              "browser": browser}
    if browser == "page":
        fields["page_url"] = _str(data, "page_url", source)
        _check_template(fields["page_url"], f"{source}: page_url")
    else:
        fields["command"] = _command(data.get("command"), f"{source}: command")
    if "url_pattern" in data:
        pattern = _str(data, "url_pattern", source)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TargetError(f"{source}: url_pattern={pattern!r}: not a regular expression: {exc}") from None
        fields["url_pattern"] = pattern
    fields["prompts"] = _prompts(data.get("prompts", []), f"{source}: prompts")
    if "token_file" in data:
        fields["token_file"] = _str(data, "token_file", source)
        _check_template(fields["token_file"], f"{source}: token_file")
    grants = data.get("grants", ["implicit"])
    if not isinstance(grants, list) or not grants or any(g not in GRANTS for g in grants):
        raise TargetError(f"{source}: grants={grants!r}: expected a non-empty list of {', '.join(GRANTS)}")
    fields["grants"] = tuple(grants)
    https = data.get("https", False)
    if isinstance(https, dict):
        if sorted(https) != ["off", "on"] or not all(isinstance(v, str) for v in https.values()):
            raise TargetError(f"{source}: https: expected true, false or {{on = \"...\", off = \"...\"}} "
                              f"(what {{https}} becomes for HTTPS and plain logins), got {https!r}")
        for key in ("off", "on"):
            _check_template(https[key], f"{source}: https.{key}")
        fields["https_values"] = (https["off"], https["on"])
    elif isinstance(https, bool):
        fields["https"] = https
    else:
        raise TargetError(f"{source}: https={https!r}: expected true, false or a table {{on, off}}")
    if "client_credentials" in data:
        fields.update(_client_credentials(data["client_credentials"], f"{source}: client_credentials"))
    return ClientProfile(**fields)


def _command(command: Any, where: str) -> tuple[str, ...]:
    if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
        raise TargetError(f"{where}: expected a list of non-empty strings (argv), got {command!r}")
    for i, arg in enumerate(command):
        _check_template(arg, f"{where}[{i}]")
    return tuple(command)


def _prompts(prompts: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(prompts, list):
        raise TargetError(f"{where}: expected a list of [expect-regex, answer] pairs")
    pairs = []
    for i, pair in enumerate(prompts):
        here = f"{where}[{i}]"
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise TargetError(f"{here}: expected [expect-regex, answer] (two strings), got {pair!r}")
        try:
            re.compile(pair[0])
        except re.error as exc:
            raise TargetError(f"{here}: {pair[0]!r} is not a regular expression: {exc}") from None
        _check_template(pair[1], here)
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def _client_credentials(table: Any, where: str) -> dict[str, Any]:
    """[client_credentials]: command (argv), prompts and env (NAME = template), like a login's."""
    if not isinstance(table, dict):
        raise TargetError(f"{where}: expected a table with command, prompts, env")
    unknown = sorted(set(table) - set(CC_KEYS))
    if unknown:
        raise TargetError(f"{where}: unknown field(s) {', '.join(unknown)}; expected {', '.join(CC_KEYS)}")
    env = table.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(k, str) and k and isinstance(v, str) for k, v in env.items()):
        raise TargetError(f"{where}: env: expected a table of NAME = \"template\" strings, got {env!r}")
    for name, value in env.items():
        _check_template(value, f"{where}: env.{name}")
    return {"cc_command": _command(table.get("command"), f"{where}: command"),
            "cc_prompts": _prompts(table.get("prompts", []), f"{where}: prompts"),
            "cc_env": tuple(env.items())}


def load_profile(path: str | Path) -> ClientProfile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TargetError(f"{path}: {exc.strerror}") from None
    return parse_profile(text, str(path))
