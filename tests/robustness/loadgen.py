"""A bounded load generator: threads with one requests.Session each.

Each thread picks the next operation from a fixed rotation and runs it until the
deadline or the request budget is spent; every request has a timeout. Results are
counted, never timed against a threshold (timing is `make bench`'s job).
"""
from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import requests

Operation = Callable[[requests.Session], int]   # returns the HTTP status it got


@dataclass
class LoadResult:
    """Counts by (operation, status); connection failures kept apart from statuses."""

    statuses: collections.Counter = field(default_factory=collections.Counter)
    failures: collections.Counter = field(default_factory=collections.Counter)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def count(self, predicate: Callable[[int], bool]) -> int:
        return sum(n for (_, status), n in self.statuses.items() if predicate(status))

    @property
    def server_errors(self) -> int:
        return self.count(lambda s: s >= 500)

    def summary(self) -> dict:
        by_op: dict[str, dict[str, int]] = collections.defaultdict(dict)
        for (op, status), n in sorted(self.statuses.items()):
            by_op[op][str(status)] = n
        return {"requests": self.requests, "seconds": round(self.seconds, 1),
                "server_errors": self.server_errors,
                "connection_failures": dict(self.failures), "by_operation": dict(by_op)}


def run_load(operations: Sequence[tuple[str, Operation]], seconds: float, threads: int = 8,
             max_requests: int = 1_000_000,
             on_tick: Callable[[float], None] | None = None) -> LoadResult:
    """Drive the operations from `threads` threads for `seconds` (or max_requests)."""
    result = LoadResult()
    lock = threading.Lock()
    budget = [max_requests]
    stop = threading.Event()
    start = time.monotonic()
    deadline = start + seconds

    def worker(offset: int) -> None:
        i = offset
        with requests.Session() as session:
            while not stop.is_set() and time.monotonic() < deadline:
                with lock:
                    if budget[0] <= 0:
                        return
                    budget[0] -= 1
                name, op = operations[i % len(operations)]
                i += 1
                try:
                    status = op(session)
                except requests.RequestException as exc:
                    with lock:
                        result.failures[f"{name}: {type(exc).__name__}"] += 1
                    session.close()
                    continue
                with lock:
                    result.statuses[(name, status)] += 1

    pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for t in pool:
        t.start()
    try:
        while any(t.is_alive() for t in pool):
            if on_tick is not None:
                on_tick(time.monotonic() - start)
            time.sleep(0.2)
    finally:
        stop.set()
        for t in pool:
            t.join(timeout=30)
    result.seconds = time.monotonic() - start
    return result
