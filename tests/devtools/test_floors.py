"""devtools.floors: what `make test-floors` installs is exactly what pyproject.toml declares."""
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.requirements import Requirement

from devtools.floors import FloorError, floor_pin, main, project_pins

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

names = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,8})?", fullmatch=True)
versions = st.lists(st.integers(0, 999), min_size=1, max_size=4).map(lambda parts: ".".join(map(str, parts)))


def test_every_declared_dependency_becomes_an_exact_pin_of_its_floor():
    entries = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = project_pins(PYPROJECT.read_text(encoding="utf-8"))
    assert len(pins) == len(entries)
    for entry, pin in zip(entries, pins, strict=True):
        declared, pinned = Requirement(entry), Requirement(pin)
        floor = next(s.version for s in declared.specifier if s.operator == ">=")
        assert pinned.name == declared.name
        assert [(s.operator, s.version) for s in pinned.specifier] == [("==", floor)]


@given(names, versions)
def test_a_floor_becomes_its_pin(name, version):
    assert floor_pin(f"{name}>={version}") == f"{name}=={version}"


@given(names, versions)
def test_an_upper_bound_is_dropped_and_extras_and_markers_kept(name, version):
    pin = floor_pin(f"{name}[b,a]>={version},<100000; python_version >= '3.11'")
    assert pin == f"{name}[a,b]=={version}; python_version >= \"3.11\""


@pytest.mark.parametrize("entry, message", [
    ("flask", "exactly one '>=' floor, has 0"),
    ("flask==3.1.0", "exactly one '>=' floor, has 0"),
    ("flask>3.0", "exactly one '>=' floor, has 0"),
    ("flask~=3.1", "exactly one '>=' floor, has 0"),
    ("flask<4", "exactly one '>=' floor, has 0"),
    ("flask>=3.0,>=3.1", "exactly one '>=' floor, has 2"),
    ("flask>=3.1,!=3.1", "exclude the floor 3.1"),
    ("flask >= 3.1 junk", "is not a requirement"),
])
def test_an_entry_without_a_single_testable_floor_is_refused(entry, message):
    with pytest.raises(FloorError, match=message):
        floor_pin(entry)


def test_the_command_refuses_a_pyproject_with_an_unfloored_dependency(tmp_path, capsys):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\ndependencies = ["flask>=3.1.0", "gunicorn"]\n')
    assert main([str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "'gunicorn' needs exactly one '>=' floor" in captured.err


def test_the_command_prints_one_pin_a_line(tmp_path, capsys):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\ndependencies = ["flask>=3.1.0", "redis>=5.0.0"]\n')
    assert main([str(path)]) == 0
    assert capsys.readouterr().out == "flask==3.1.0\nredis==5.0.0\n"
