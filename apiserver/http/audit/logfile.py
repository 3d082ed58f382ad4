"""The audit log file: one JSON line per event, written by a thread so that no
request waits on the disk, rotated as kube-apiserver's (lumberjack) rotates it:

  --audit-log-maxsize MB   start a new file when this one would grow past it
  --audit-log-maxbackup N  keep at most N rotated files (0: keep all)
  --audit-log-maxage D     remove rotated files older than D days (0: keep)

A rotated file is renamed `<name>-<UTC time>.<ext>` beside the live one. Files are
0600: the log names users and objects. The path "-" writes to standard output.
"""
from __future__ import annotations

import datetime as dt
import os
import queue
import sys
import threading
import time
from pathlib import Path

_STOP = object()


class AuditLog:
    def __init__(self, path: str, *, max_size_mb: int = 0, max_backups: int = 0, max_age_days: int = 0):
        self.path = path
        self.max_bytes = max_size_mb * 1024 * 1024
        self.max_backups, self.max_age_days = max_backups, max_age_days
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._file = None
        self._size = 0
        self._thread = threading.Thread(target=self._run, name="audit-log", daemon=True)
        self._thread.start()

    def write(self, line: bytes) -> None:
        """Queue one line (no newline); returns at once."""
        self._queue.put(line)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    # ---- the writer thread ------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while not self._queue.empty() and len(batch) < 1000:
                batch.append(self._queue.get_nowait())
            stop = any(x is _STOP for x in batch)
            lines = [x for x in batch if x is not _STOP]
            if lines:
                try:
                    self._write(b"".join(x + b"\n" for x in lines))
                except OSError as e:   # a full disk must not take the API server down
                    print(f"audit log {self.path}: {e}", file=sys.stderr)
            if stop:
                if self._file is not None and self.path != "-":
                    self._file.close()
                return

    def _write(self, data: bytes) -> None:
        if self.path == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        if self._file is None:
            self._open()
        if self.max_bytes and self._size and self._size + len(data) > self.max_bytes:
            self._rotate()
        self._file.write(data)
        self._file.flush()
        self._size += len(data)

    def _open(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "ab")
        self._size = os.fstat(fd).st_size

    def _rotate(self) -> None:
        self._file.close()
        stem, ext = os.path.splitext(self.path)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S.%f")[:-3]
        os.rename(self.path, f"{stem}-{stamp}{ext}")
        self._prune(stem, ext)
        self._open()

    def _prune(self, stem: str, ext: str) -> None:
        folder, base = os.path.split(stem)
        folder = folder or "."
        backups = sorted((f for f in os.listdir(folder) if f.startswith(base + "-") and f.endswith(ext)),
                         reverse=True)    # the time stamp sorts newest first
        doomed = set(backups[self.max_backups:]) if self.max_backups else set()
        if self.max_age_days:
            cutoff = time.time() - self.max_age_days * 86400
            doomed |= {f for f in backups if os.path.getmtime(os.path.join(folder, f)) < cutoff}
        for f in doomed:
            try:
                os.remove(os.path.join(folder, f))
            except FileNotFoundError:
                pass
