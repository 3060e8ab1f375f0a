"""The SDK models as the public description of Genesys's JSON: check a body against one.

The JavaScript SDK's index.d.ts declares every model as a TypeScript interface, with
`?` on the optional fields; that is the only machine-readable place saying which fields
are required, so bodies are checked against it. Mock extensions are allowed under one
key, EXTENSION_KEY, on any object.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent / "node"
SDK_DIR = NODE_DIR / "node_modules" / "purecloud-platform-client-v2"
EXTENSION_KEY = "mockIdp"

_INTERFACE = re.compile(r"^\texport interface (\w+) \{ *\n(.*?)^\t\}", re.M | re.S)
_FIELD = re.compile(r'^\t\t"(\w+)"(\?)?: (.+);$', re.M)
_MODEL = re.compile(r"Models\.(\w+)")
_ARRAY = re.compile(r"Array<(.+)>")


def missing_sdk_message() -> str:
    return f"{SDK_DIR} is missing: `make sdk-node` (part of `make test-python`) installs it"


@cache
def interfaces() -> dict[str, dict[str, tuple[str, bool]]]:
    """Model name -> field -> (TypeScript type, required)."""
    text = (SDK_DIR / "index.d.ts").read_text(encoding="utf-8")
    return {name: {f: (kind, not optional) for f, optional, kind in _FIELD.findall(body)}
            for name, body in _INTERFACE.findall(text)}


def problems(body: object, model: str, where: str = "$") -> list[str]:
    """What makes `body` not a valid `model`: unknown or missing fields, wrong kinds."""
    fields = interfaces()[model]
    if not isinstance(body, dict):
        return [f"{where}: expected a {model} object, got {type(body).__name__}"]
    found = [f"{where}.{name}: not a field of {model}" for name in body
             if name not in fields and name != EXTENSION_KEY]
    for name, (kind, required) in fields.items():
        if name not in body:
            if required:
                found.append(f"{where}.{name}: required by {model}, missing")
            continue
        found += _kind_problems(body[name], kind, f"{where}.{name}")
    return found


def _kind_problems(value: object, kind: str, where: str) -> list[str]:
    kind = kind.strip()
    array = _ARRAY.fullmatch(kind)
    if array:
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in _kind_problems(item, array[1], f"{where}[{i}]")]
    model = _MODEL.fullmatch(kind)
    if model:
        return problems(value, model[1], where)
    simple = {"string": str, "number": (int, float), "boolean": bool}
    if kind in simple:
        ok = isinstance(value, simple[kind]) and not (kind == "number" and isinstance(value, bool))
        return [] if ok else [f"{where}: expected {kind}, got {value!r}"]
    if kind.startswith('"'):  # an enum: "A" | "B"
        allowed = re.findall(r'"([^"]*)"', kind)
        return [] if value in allowed else [f"{where}: {value!r} is not one of {allowed}"]
    if kind.startswith("{ [key: string]"):
        return [] if isinstance(value, dict) else [f"{where}: expected an object"]
    return []  # `object` and the like: anything goes


def assert_valid(body: object, model: str) -> None:
    found = problems(body, model)
    assert not found, f"not a valid {model}:\n  " + "\n  ".join(found)
