"""CPU time of a server's process tree, read from /proc.

Worker CPU per request is steadier than req/s on a shared two-CPU machine: req/s also
moves with how the scheduler shares the CPUs between wrk and the server, CPU per
request mostly with the work the server does for each request.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def parse_stat(text: str) -> tuple[int, int]:
    """(parent pid, user + system CPU in clock ticks) from a /proc/<pid>/stat line.

    The command name (field 2) is in parentheses and may hold spaces and ')': the fields
    are counted from the last ')'. ValueError if the line is not one.
    """
    head, paren, rest = text.rpartition(")")
    fields = rest.split()
    if not paren or "(" not in head or len(fields) < 13:
        raise ValueError("not a /proc/<pid>/stat line")
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree_ticks(root: int, stats: Mapping[int, tuple[int, int]]) -> int:
    """Ticks of `root` and every process below it; `stats` maps pid -> (ppid, ticks)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _ticks) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid][1]
        todo.extend(children.get(pid, ()))
    return total


def tree_cpu_seconds(root: int, proc: Path = Path("/proc")) -> float:
    """CPU seconds used so far by `root` and its live descendants (gunicorn: master and
    workers). Processes that vanish while /proc is read are skipped."""
    stats: dict[int, tuple[int, int]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = parse_stat((entry / "stat").read_text())
            except (OSError, ValueError):
                continue
    return tree_ticks(root, stats) / os.sysconf("SC_CLK_TCK")
