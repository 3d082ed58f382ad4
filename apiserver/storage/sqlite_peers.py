"""Wake-ups between processes that write one SQLite file (the API server's workers).

After a commit, a process tells the others "the log moved" with one datagram each, so
they read the new rows at once instead of at their next poll. Each process binds a
Unix datagram socket in the abstract namespace (no file to clean up, no path-length
limit) and announces its name with an empty file in a directory beside the database.
A name whose socket is gone (the process was killed) refuses the datagram, and its
file is removed then. The datagrams carry nothing: losing one costs a poll interval.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading

_ABSTRACT_PREFIX = "\0pocketkube-sqlite-"


class PeerNotifier:
    def __init__(self, db_path: str):
        self.dir = f"{db_path}-peers"
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.name = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._inbox.bind(_ABSTRACT_PREFIX + self.name)
        self._inbox.setblocking(False)
        self._outbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._outbox.setblocking(False)
        self._marker = os.path.join(self.dir, self.name)
        with open(self._marker, "w"):
            pass
        self._lock = threading.Lock()   # the writer thread notifies; the loop thread closes
        self._peers: list[str] = []
        self._listed_mtime = -1

    def fileno(self) -> int:
        return self._inbox.fileno()

    def drain(self) -> int:
        """Read every pending wake-up; how many there were."""
        n = 0
        while True:
            try:
                self._inbox.recv(16)
            except (BlockingIOError, OSError):
                return n
            n += 1

    def _current_peers(self) -> list[str]:
        # Re-list only when the directory changed (a worker came or went): one stat per commit.
        try:
            mtime = os.stat(self.dir).st_mtime_ns
        except FileNotFoundError:
            return []
        if mtime != self._listed_mtime:
            self._listed_mtime = mtime
            self._peers = [n for n in os.listdir(self.dir) if n != self.name]
        return self._peers

    def notify(self) -> None:
        """Wake every other process (called from the writer thread after a commit)."""
        with self._lock:
            if self._outbox.fileno() < 0:
                return
            for peer in self._current_peers():
                try:
                    self._outbox.sendto(b"!", _ABSTRACT_PREFIX + peer)
                except BlockingIOError:
                    pass   # its inbox is full: it has wake-ups enough to read
                except (ConnectionRefusedError, FileNotFoundError):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(self.dir, peer))   # a process that died without leaving
                except OSError:
                    pass

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._marker)
            self._outbox.close()
            self._inbox.close()
