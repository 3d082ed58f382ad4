"""Caps on open connections, per client address and in total, enforced at accept().

A client over its cap (or any client once the server is full) has its connection
closed the moment it is accepted: no TLS state, no buffers, no task is made for
it, so a flood of connections costs a file descriptor for an instant rather than
memory for as long as the client likes. Counting happens on the socket objects
asyncio is handed: the listening socket's accept() counts a connection in, the
connection socket's close() (which asyncio's transport calls once, however the
connection ends) counts it out.

Memory the closed connections used is given back to the system. asyncio's TLS
protocol and transport refer to each other, so a closed connection is freed only
by the cycle collector, and glibc then keeps the freed blocks in its heap. After
a burst of closes (many, settled for a moment, and not more often than every
TRIM_MIN_INTERVAL_S) the process runs the collector and malloc_trim, and RSS
returns near its baseline.
"""
from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import socket
from collections import Counter
from dataclasses import dataclass

log = logging.getLogger("apiserver")

# After this many connections have closed, hand freed heap memory back to the system...
TRIM_AFTER_CLOSES = 64
# ...once the burst has settled for this long (seconds)...
TRIM_DELAY_S = 2.0
# ...and not more often than this: a full collection walks every object of the process.
TRIM_MIN_INTERVAL_S = 10.0


@dataclass(frozen=True)
class ConnectionCaps:
    total: int
    per_client: int


class ConnectionCounter:
    """Open connections by client address; decides whether one more may open."""

    def __init__(self, caps: ConnectionCaps):
        self.caps = caps
        self.by_client: Counter[str] = Counter()
        self.total = 0
        self.refused = 0
        self._closed_since_trim = 0
        self._trim_timer: asyncio.TimerHandle | None = None
        self._last_trim = float("-inf")

    def admit(self, client: str) -> bool:
        if self.total >= self.caps.total or self.by_client[client] >= self.caps.per_client:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.warning("refusing connection from %s: %d open from it, %d in total (caps %d per client, %d total);"
                            " %d refused so far", client, self.by_client[client], self.total,
                            self.caps.per_client, self.caps.total, self.refused)
            return False
        self.by_client[client] += 1
        self.total += 1
        return True

    def release(self, client: str) -> None:
        self.total -= 1
        self.by_client[client] -= 1
        if self.by_client[client] <= 0:
            del self.by_client[client]
        self._closed_since_trim += 1
        if self._closed_since_trim >= TRIM_AFTER_CLOSES:
            self._schedule_trim()

    def _schedule_trim(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._trim_timer is not None:
            self._trim_timer.cancel()
        at = max(loop.time() + TRIM_DELAY_S, self._last_trim + TRIM_MIN_INTERVAL_S)
        self._trim_timer = loop.call_at(at, self._trim, loop)

    def _trim(self, loop: asyncio.AbstractEventLoop) -> None:
        self._trim_timer = None
        self._closed_since_trim = 0
        self._last_trim = loop.time()
        release_free_heap()


def release_free_heap() -> None:
    """Free unreachable cycles, then glibc's malloc_trim(0): return free heap pages to the
    system (the trim is a no-op on other C libraries)."""
    gc.collect()
    if _libc is not None:
        _libc.malloc_trim(0)


def _load_libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_libc = _load_libc()


class _CountedConnection(socket.socket):
    """An accepted connection that counts itself out when closed."""

    _counter: ConnectionCounter | None = None
    _client = ""

    def close(self) -> None:
        counter, self._counter = self._counter, None
        if counter is not None:
            counter.release(self._client)
        super().close()


class LimitedListener(socket.socket):
    """A listening socket whose accept() closes connections over the caps at once."""

    counter: ConnectionCounter

    @classmethod
    def wrap(cls, sock: socket.socket, caps: ConnectionCaps) -> "LimitedListener":
        """Take over `sock`'s file descriptor (sock is left detached)."""
        listener = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        listener.counter = ConnectionCounter(caps)
        return listener

    def accept(self):
        while True:  # asyncio calls accept() until it raises BlockingIOError
            fd, addr = self._accept()
            client = addr[0] if isinstance(addr, tuple) else str(addr)
            if self.counter.admit(client):
                break
            socket.close(fd)
        conn = _CountedConnection(self.family, self.type, self.proto, fileno=fd)
        conn._counter = self.counter
        conn._client = client
        return conn, addr
