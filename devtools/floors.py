"""The declared dependency floors as exact pins, so `make test-floors` tests what pyproject.toml says.

Each ``[project].dependencies`` entry must carry a ``>=`` floor; the pin is ``name==floor``
(extras and markers kept). An entry without one is refused: its floor could not be tested.

    python -m devtools.floors pyproject.toml > build/floors/requirements.txt
"""
from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement


class FloorError(ValueError):
    """A dependency entry whose floor cannot be pinned; the message names it."""


def floor_pin(entry: str) -> str:
    """``"flask>=3.1"`` -> ``"flask==3.1"``: the one version the floor promises to work."""
    try:
        req = Requirement(entry)
    except InvalidRequirement as exc:
        raise FloorError(f"{entry!r} is not a requirement: {exc}") from None
    floors = [spec.version for spec in req.specifier if spec.operator == ">="]
    if len(floors) != 1:
        raise FloorError(f"{entry!r} needs exactly one '>=' floor, has {len(floors)}")
    floor = floors[0]
    if not req.specifier.contains(floor, prereleases=True):
        raise FloorError(f"{entry!r}: its other specifiers exclude the floor {floor}")
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    marker = f"; {req.marker}" if req.marker else ""
    return f"{req.name}{extras}=={floor}{marker}"


def floor_pins(entries: Iterable[str]) -> list[str]:
    """Every entry's pin, in order."""
    return [floor_pin(entry) for entry in entries]


def project_pins(pyproject_text: str) -> list[str]:
    """The pins of ``[project].dependencies`` in a pyproject.toml's text."""
    return floor_pins(tomllib.loads(pyproject_text)["project"]["dependencies"])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "pyproject.toml")
    try:
        pins = project_pins(path.read_text(encoding="utf-8"))
    except FloorError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(pins))
    return 0


if __name__ == "__main__":
    sys.exit(main())
