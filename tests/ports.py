"""Ports for the servers tests start (API servers, etcd members, metrics, webhooks).

Asking the kernel for a free port (bind port 0, read it, close) and handing it to a
server races with every other socket on the host: the port is one of the kernel's
ephemeral ports, and any outgoing connection or port-0 bind in any process may take it
before the server binds it, seconds later on a loaded machine. CI saw exactly that.

So these ports come from a band the kernel never hands out by itself: 20000-29999,
minus net.ipv4.ip_local_port_range (32768-60999 on Linux by default), below the
NodePort range (30000-32767, which our proxy programs) and clear of the components'
default ports (53, 2379/2380, 6443, 10250, 10257). Only processes that ask for one
of them by number can hold one, and test processes coordinate among themselves: each
port is reserved with a POSIX lock on its byte of one shared lock file, held while
the test process lives (released by the kernel when it exits, however it exits), and
is checked free on every address before it is handed out.

A component that can report the port it bound (the node agent: --port 0) should
be given 0 instead: then there is no gap to race in at all.
"""
from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
import threading

BAND = range(20000, 30000)
LOCK_FILE = os.path.join(tempfile.gettempdir(), "pocketkube-test-ports.lock")

_lock = threading.Lock()
_fd: int | None = None
_mine: set[int] = set()   # reserved by this process (POSIX locks do not exclude their own process)
_candidates: list[int] = []
_next = 0


def _ephemeral_range() -> range:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def _usable(port: int) -> bool:
    """Nothing holds the port on any address, TCP or UDP (a wildcard bind collides with
    every address's). No SO_REUSEADDR: a port with leftover connections is skipped too."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                return False
    return True


def free_port() -> int:
    """A port outside the kernel's ephemeral range, free now and reserved for this test
    process (no other test process is handed it) until it exits."""
    global _fd, _next
    with _lock:
        if _fd is None:
            ephemeral = _ephemeral_range()
            _candidates.extend(p for p in BAND if p not in ephemeral)
            if not _candidates:
                raise RuntimeError(f"the kernel's ephemeral ports ({ephemeral.start}-{ephemeral.stop - 1}, "
                                   f"net.ipv4.ip_local_port_range) cover {BAND.start}-{BAND.stop - 1}: "
                                   "no port is safe to hand a test server")
            _next = random.randrange(len(_candidates))   # processes side by side start apart
            _fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
        for _ in range(len(_candidates)):
            port = _candidates[_next]
            _next = (_next + 1) % len(_candidates)
            if port in _mine:
                continue
            try:
                fcntl.lockf(_fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
            except OSError:
                continue   # another test process has it
            if _usable(port):
                _mine.add(port)
                return port
            fcntl.lockf(_fd, fcntl.LOCK_UN, 1, port)
        raise RuntimeError(f"no free test port left in {BAND.start}-{BAND.stop - 1}")
