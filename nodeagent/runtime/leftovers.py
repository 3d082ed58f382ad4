"""The files a node agent keeps beside its Podman service, and those dead agents left.

Each agent's Podman service has, in the socket directory, its socket `X.sock`, the
service's pid in `X.sock.pid` and the agent's lock in `X.sock.lock` (X names the node
and the cluster). An agent removes its own on a clean stop; an agent that was killed
leaves them, and test runs make new node and cluster names all the time, so each agent
also sweeps, when it starts, the sets whose service process is gone and whose lock no
agent holds. A live service (an agent killed while its service runs) is left alone:
the next agent for that node adopts it.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os

log = logging.getLogger(__name__)

PREFIX = "podman-"


def service_pid(sock: str) -> int | None:
    """The pid of the Podman service serving `sock`, if that process still runs
    (its command line names the socket: a pid reused by another process does not count)."""
    try:
        with open(sock + ".pid") as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return pid if sock.encode() in f.read() else None
    except (OSError, ValueError):
        return None


def remove(sock: str) -> None:
    """Remove the socket and pid files (the lock is its holder's to remove)."""
    for path in (sock, sock + ".pid"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def sweep(sock_dir: str) -> list[str]:
    """Remove the sets of files whose service is gone and whose lock is free; returns
    the sockets whose files were removed."""
    removed = []
    try:
        names = os.listdir(sock_dir)
    except FileNotFoundError:
        return removed
    for name in names:
        if not (name.startswith(PREFIX) and name.endswith(".sock.pid")):
            continue
        sock = os.path.join(sock_dir, name[:-len(".pid")])
        if service_pid(sock) is not None:
            continue
        lock = sock + ".lock"
        try:
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            fd = None
        try:
            if fd is not None:
                try:   # a live agent holds it (say, while it restarts its service): not ours
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue
            remove(sock)
            if fd is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock)
            removed.append(sock)
        finally:
            if fd is not None:
                os.close(fd)
    if removed:
        log.info("removed the files of %d stopped Podman services from %s", len(removed), sock_dir)
    return removed
