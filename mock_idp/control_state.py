"""The control API's state, shared by every gunicorn worker: in the store's SQLite file.

Faults, scripted sign-ins and received requests are rows beside the store's own tables;
a fault or sign-in is used up by a write transaction, so N of them serve exactly N
requests whichever workers answer. The clock offset is 8 bytes in a memory-mapped
file beside the store (`<db>-clock`): every token and lookup reads the clock, and a
memory read costs nothing where a query per read would.

`ControlState` is what the HTTP layer (control.py) and the pytest fixture use;
control_sqlite.py keeps it in the SQLite store (an engine module, named only by the app factory).
"""
from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .control_rules import Fault, ScriptedLogin
from .models import User
from .seed import SeedClient, SeedUser


class ControlState(Protocol):
    """What tests may do to a running mock, whoever stores it."""

    clock: Callable[[], float]

    def clock_offset(self) -> float: ...
    def set_clock_offset(self, offset: float) -> None: ...
    def add_fault(self, fault: Fault) -> int: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def take_fault(self, method: str, path: str) -> Fault | None: ...
    def clear_faults(self) -> None: ...
    def add_login(self, login: ScriptedLogin) -> int: ...
    def logins(self) -> list[dict[str, Any]]: ...
    def take_login(self, client_id: str) -> ScriptedLogin | None: ...
    def clear_logins(self) -> None: ...
    def record(self, entry: dict[str, Any]) -> None: ...
    def requests(self) -> list[dict[str, Any]]: ...
    def clear_requests(self) -> None: ...
    def find_user(self, ref: str) -> User | None: ...
    def put_user(self, user: SeedUser) -> User: ...
    def put_client(self, client: SeedClient) -> None: ...
    def reset(self) -> None: ...


class ClockOffset:
    """Seconds added to the app's clock, shared by the processes of one store."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            if os.fstat(fd).st_size < 8:
                os.ftruncate(fd, 8)  # zeros: offset 0.0
            self._map = mmap.mmap(fd, 8)
        finally:
            os.close(fd)

    def read(self) -> float:
        return struct.unpack_from("<d", self._map, 0)[0]

    def write(self, offset: float) -> None:
        struct.pack_into("<d", self._map, 0, offset)


class ShiftedClock:
    """The app's clock plus the shared offset: what the store reads when control is on."""

    def __init__(self, base: Callable[[], float], offset: ClockOffset) -> None:
        self.base = base
        self._offset = offset

    def __call__(self) -> float:
        return self.base() + self._offset.read()
