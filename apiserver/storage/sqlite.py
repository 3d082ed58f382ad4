"""SQLiteStore: the embedded default backend, a kine-style log table in one file.

Threads: one writer thread owns the only write connection and applies queued
writes in batches (one transaction per batch: many writers share one commit,
which is where throughput comes from). Reads run on a small pool of reader
threads, each with its own connection (WAL lets them read while the writer
writes). After each commit the writer hands the batch back to the event loop,
which first fans the events out to watchers and then answers the writers, so a
writer that sees its revision knows every watcher has the event queued.

shared=True: other processes write the same file (the API server's workers); the
log table is then the change stream, followed as sqlite_follow.py explains.
"""
from __future__ import annotations

import asyncio
import contextlib
import concurrent.futures
import logging
import os
import queue
import threading
import time
from typing import Any

from . import sqlite_log
from .fanout import Fanout
from .sqlite_follow import LogFollower
from .interface import KeyValue, ListResult, Store, StoreError, UnavailableError, WatchEvent
from .stream import WatchStream, bookmark

log = logging.getLogger(__name__)

_MAX_BATCH = 2000        # writes per transaction
_HISTORY_CHUNK = 5000    # rows per history read when a watch replays
_SWEEP_ROWS = 1000       # log rows a compaction looks at per write batch (5,000 held writes up to ~0.4 s)


class _Op:
    __slots__ = ("kind", "args", "future")

    def __init__(self, kind: str, args: tuple, future: asyncio.Future | None):
        self.kind = kind
        self.args = args
        self.future = future


class _SQLiteWatch(WatchStream):
    """Registers live at the store's published revision R, then replays history
    (from_revision, R] from the log before handing out live events (> R)."""

    def __init__(self, store: "SQLiteStore", prefix: str, from_revision: int, max_buffer: int | None):
        super().__init__(prefix, from_revision, max_buffer)
        self._store = store
        self._started = False

    async def _prepare(self) -> None:
        if self._started:
            return
        self._started = True
        store = self._store
        registered_at = store._published
        self._on_close = store._watchers.discard
        store._watchers.add(self)
        after = self.from_revision
        replay: list[WatchEvent] = []
        try:
            while after < registered_at:
                chunk = await store._read(
                    sqlite_log.read_history, self.prefix, after, registered_at, _HISTORY_CHUNK
                )
                replay.extend(chunk)
                if len(chunk) < _HISTORY_CHUNK:
                    break
                after = chunk[-1].kv.mod_revision
        except BaseException:
            await self.aclose()
            raise
        if replay:
            self._buf.extendleft(reversed(replay))

    def request_progress(self) -> None:
        if self._store._follower is not None:
            self._store._follower.want_progress(self)   # after the next read of the log
        else:
            self.push(bookmark(self._store._published))


def _private(path: str) -> None:
    """The database holds every Secret: readable by its owner only. SQLite gives
    the -wal and -shm files the database file's mode, so creating the file 0600
    first covers them; files an older version left 0644 are narrowed."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for f in (path, f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f, 0o600)


class SQLiteStore(Store):
    def __init__(self, path: str, *, readers: int = 2, shared: bool = False):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
        _private(path)
        self._wconn = sqlite_log.connect(path)
        sqlite_log.init_schema(self._wconn)
        self._writer = sqlite_log.Writer(self._wconn)
        self._published = self._writer.revision     # newest revision fanned out to watchers
        self._compacted = sqlite_log.read_compacted_revision(self._wconn)
        self._watchers = Fanout()
        self._queue: queue.SimpleQueue[_Op] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="sqlite-writer", daemon=True)
        self._thread.start()
        self._local = threading.local()
        self._rconns: list = []
        self._rlock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._compactor: asyncio.Task | None = None
        self._follower = LogFollower(self) if shared else None

    # ---- writer thread ----------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(op.kind == "close" for op in batch)
            self._apply(batch)
            if stop:
                self._wconn.close()
                return

    def _apply(self, batch: list[_Op]) -> None:
        w = self._writer
        results: list[tuple[_Op, bool, Any]] = []
        events: list[WatchEvent] = []
        start_rev = w.revision
        try:
            self._wconn.execute("BEGIN IMMEDIATE")
            # Re-read the revision under the write lock: cheap, and it keeps
            # revisions right even if another process wrote the file.
            w.revision = start_rev = sqlite_log.read_current_revision(self._wconn)
            for op in batch:
                try:
                    if op.kind == "create":
                        rev, ev = w.create(*op.args)
                        results.append((op, True, rev)); events.append(ev)
                    elif op.kind == "update":
                        rev, ev = w.update(*op.args)
                        results.append((op, True, rev)); events.append(ev)
                    elif op.kind == "delete":
                        gone, ev = w.delete(*op.args)
                        results.append((op, True, gone)); events.append(ev)
                    elif op.kind == "compact":
                        results.append((op, True, w.mark_compacted(*op.args)))
                    elif op.kind == "sweep":
                        results.append((op, True, w.sweep(*op.args)))
                    else:
                        results.append((op, True, None))
                except StoreError as e:
                    results.append((op, False, e))
            self._wconn.execute("COMMIT")
        except Exception as e:  # disk full, I/O error: nothing of the batch is stored
            log.exception("sqlite commit failed")
            try:
                self._wconn.execute("ROLLBACK")
            except Exception:
                pass
            w.revision = start_rev
            err = UnavailableError(f"sqlite write failed: {e}")
            results = [(op, False, err) for op in batch]
            events = []
        if events and self._follower is not None:
            self._follower.notifier.notify()
        loops = {op.future.get_loop() for op in batch if op.future is not None}
        for loop in loops:
            try:
                loop.call_soon_threadsafe(self._committed, results, events, w.revision, start_rev)
            except RuntimeError:
                pass  # the loop is gone; nobody waits

    # ---- event loop side of a commit --------------------------------------
    def _committed(self, results: list, events: list[WatchEvent], revision: int, start: int) -> None:
        if self._follower is not None:
            self._follower.committed(start, results, events, revision)
            return
        if events:
            self._fan_out(events)
        if revision > self._published:
            self._published = revision
        self._resolve(results)

    def _resolve(self, results: list) -> None:
        for op, ok, value in results:
            fut = op.future
            if fut is None or fut.done():
                continue
            if op.kind == "compact" and ok:
                self._compacted = max(self._compacted, value)
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    def _fan_out(self, events: list[WatchEvent]) -> None:
        self._watchers.publish(events)

    async def _submit(self, kind: str, *args) -> Any:
        if self._closed:
            raise UnavailableError("store is closed")
        if self._follower is not None:
            self._follower.ensure_started()
        fut = asyncio.get_running_loop().create_future()
        self._queue.put(_Op(kind, args, fut))
        return await fut

    # ---- readers ----------------------------------------------------------
    def _reader(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite_log.connect(self.path)
            self._local.conn = conn
            with self._rlock:
                self._rconns.append(conn)
        return conn

    async def _read(self, fn, *args):
        if self._closed:
            raise UnavailableError("store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(self._reader(), *args))

    # ---- the Store contract -----------------------------------------------
    async def create(self, key: str, value: bytes) -> int:
        return await self._submit("create", key, value)

    async def update(self, key: str, value: bytes, expected_revision: int | None = None) -> int:
        return await self._submit("update", key, value, expected_revision)

    async def delete(self, key: str, expected_revision: int | None = None) -> KeyValue:
        return await self._submit("delete", key, expected_revision)

    async def get(self, key: str) -> KeyValue | None:
        return await self._read(sqlite_log.read_get, key)

    async def list(
        self, prefix: str, *, limit: int = 0, start_key: str | None = None, revision: int = 0
    ) -> ListResult:
        return await self._read(sqlite_log.read_list, prefix, limit, start_key, revision)

    def watch(self, prefix: str, from_revision: int, *, max_buffer: int | None = 100_000) -> WatchStream:
        if self._follower is not None:
            self._follower.ensure_started()
        return _SQLiteWatch(self, prefix, from_revision, max_buffer)

    async def current_revision(self) -> int:
        if self._follower is not None:
            return self._follower.head()   # others may have written since we last read the log
        return self._published

    async def reliable_progress(self) -> bool:
        """Bookmarks are queued behind every event already fanned out: exact."""
        return True

    async def compacted_revision(self) -> int:
        return self._compacted

    async def compact(self, revision: int) -> None:
        await self._compact(revision)

    async def _compact(self, revision: int) -> int:
        """Compact to `revision`; returns the rows deleted. The horizon is recorded first
        (reads below it are refused from then on), then the rows it frees are deleted a
        slice per write batch, between other writes: at 5,000 nodes five minutes of
        history is a few hundred thousand rows, and one DELETE of them held the writer
        thread, so every write, for seconds."""
        horizon = await self._submit("compact", revision)
        # Watchers still replaying below the new horizon will hit CompactedError
        # on their next history read; live watchers are unaffected.
        after, deleted = 0, 0
        while after < horizon:
            after, n = await self._submit("sweep", after, horizon, _SWEEP_ROWS)
            deleted += n
        return deleted

    # ---- periodic compaction ------------------------------------------------
    def start_compactor(self, interval_s: float = 300.0, keep_window: int = 1000) -> None:
        """Every interval, compact to the revision seen one interval ago (history
        spans at least one interval, like kube-apiserver's 5-minute compaction),
        keeping at least `keep_window` revisions."""
        if self._compactor is None:
            self._compactor = asyncio.get_running_loop().create_task(
                self._compact_loop(interval_s, keep_window)
            )

    async def _compact_loop(self, interval_s: float, keep_window: int) -> None:
        previous = self._published
        while True:
            await asyncio.sleep(interval_s)
            target = min(previous, self._published - keep_window)
            previous = self._published
            if target > self._compacted:
                try:
                    t0 = time.monotonic()
                    deleted = await self._compact(target)
                    log.info("compacted sqlite store to revision %d (%d rows deleted in %.1fs)", target, deleted,
                             time.monotonic() - t0)
                except StoreError:
                    log.exception("compaction failed")

    async def close(self) -> None:
        if self._closed:
            return
        if self._compactor is not None:
            self._compactor.cancel()
            self._compactor = None
        if self._follower is not None:
            await self._follower.close()
        for w in self._watchers.all():
            w.end()
        fut = asyncio.get_running_loop().create_future()
        self._queue.put(_Op("close", (), fut))
        self._closed = True
        await fut
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._pool.shutdown(wait=True)
        with self._rlock:
            for c in self._rconns:
                c.close()
            self._rconns.clear()
