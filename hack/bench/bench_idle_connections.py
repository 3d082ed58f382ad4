#!/usr/bin/env python
"""Memory an API server spends on idle TCP connections that never start TLS: prints numbers.

  python hack/bench/bench_idle_connections.py [--connections 1000] [--rounds 2]

Starts a server, reads its RSS (/proc/<pid>/status VmRSS), opens N plain TCP
connections to its HTTPS port that never send a byte (a TLS handshake that never
starts), reads RSS again once the server has accepted them all, closes them, and
reads RSS once more; `--rounds` times. Extra server flags may follow `--`.
"""
from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.harness import ServerProcess  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def server_connections(pid: int, port: int) -> int:
    """Established TCP connections of the server's port (both directions seen from /proc)."""
    hexport = f":{port:04X}"
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(hexport) and fields[3] == "01":
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("server_args", nargs="*")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        srv = ServerProcess(Path(d), extra_args=args.server_args).start().wait_ready()
        pid = srv.proc.pid
        try:
            time.sleep(1)
            base = rss_kib(pid)
            print(f"baseline RSS {base / 1024:.1f} MiB")
            for r in range(args.rounds):
                conns = []
                for _ in range(args.connections):
                    s = socket.create_connection(("127.0.0.1", srv.port))
                    conns.append(s)
                deadline = time.monotonic() + 30
                while server_connections(pid, srv.port) < args.connections and time.monotonic() < deadline:
                    time.sleep(0.1)
                time.sleep(1)
                held = rss_kib(pid)
                for s in conns:
                    s.close()
                deadline = time.monotonic() + 30
                while server_connections(pid, srv.port) > 0 and time.monotonic() < deadline:
                    time.sleep(0.1)
                time.sleep(4)  # the server gives freed memory back a little after a burst of closes
                after = rss_kib(pid)
                print(f"round {r + 1}: {args.connections} idle connections: RSS {held / 1024:.1f} MiB "
                      f"(+{(held - base) / args.connections:.1f} KiB each); after closing: {after / 1024:.1f} MiB "
                      f"(+{(after - base) / 1024:.1f} MiB over baseline)")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
