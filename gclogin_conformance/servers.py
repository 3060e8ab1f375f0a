"""Small server helpers the suite needs, copied from devtools/servers.py so that the
installed package runs without the repository (devtools is not in the wheel)."""
from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from werkzeug.serving import make_server


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now on host (the usual small race is accepted)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def wsgi_server(app, host: str = "127.0.0.1", port: int = 0, ssl_context=None) -> Iterator[str]:
    """Serve a WSGI app in a thread; yields its base URL."""
    server = make_server(host, port, app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bound = server.socket.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    try:
        yield f"{'https' if ssl_context else 'http'}://{shown}:{bound}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def listening_addresses(port: int) -> set[str]:
    """Local addresses in LISTEN state on port, from /proc/net/tcp and tcp6 (Linux)."""
    found = set()
    for name, size in (("tcp", 4), ("tcp6", 16)):
        table = Path(f"/proc/net/{name}")
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            addr, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:
                raw = bytes.fromhex(addr)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))
                found.add(str(ipaddress.ip_address(words)))
    return found


def listening_ports_of(pids: set[int]) -> set[int]:
    """TCP ports in LISTEN state whose sockets belong to one of pids (Linux /proc)."""
    inodes: set[str] = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    target = str(fd.readlink())
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        except OSError:
            continue
    ports = set()
    for name in ("tcp", "tcp6"):
        table = Path(f"/proc/net/{name}")
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.add(int(fields[1].split(":")[1], 16))
    return ports
