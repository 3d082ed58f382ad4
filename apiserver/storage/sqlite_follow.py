"""Following the log when other processes write the same SQLite file (the API server's workers).

Alone, a store fans out the events of its own commits. When several processes share
the file (kine's setting: several servers, one database), revisions of other
processes' commits fall between ours, and every watcher must still see every event
in revision order. So here the log table is the change stream, as kine's
poll-and-notify loop reads it:

- our own commit (rows start+1..end) is fanned out straight from the writer's events
  when nothing is missing before it (the common case, no read), else after the rows
  between what was fanned out and `start` have been read from the log;
- a peer's commit wakes us (sqlite_peers.py) and we read the new rows; without a
  wake-up we still poll every POLL_INTERVAL_S;
- a writer is answered only once its rows are fanned out (as alone: a writer that
  sees its revision knows every watcher of this process has it queued);
- a consistent read asks the file for its newest revision (a cheap read on the
  event loop, like etcd's quorum read of the header revision), and progress
  bookmarks are given after a read of the log, so they never run ahead of events.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from . import sqlite_log
from .interface import CompactedError
from .sqlite_peers import PeerNotifier
from .stream import WatchStream, bookmark

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0    # without a wake-up, as kine polls
_CHUNK = 5000            # rows per read of the log on a reader thread
_LOOP_CHUNK = 200        # rows read on the event loop itself (see _read_up_to)


class LogFollower:
    def __init__(self, store):
        self.store = store
        self.notifier = PeerNotifier(store.path)
        # a connection of the event loop's own, for the head revision (no thread hop per read)
        self._head_conn = sqlite_log.connect(store.path)
        self._pending: dict[int, tuple[list, list, int]] = {}   # start revision -> (results, events, end)
        self._progress_wanted: set[WatchStream] = set()
        self._wake: asyncio.Event | None = None
        self._reading = False
        self._stopped = False
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._head: int | None = None   # the head read in this turn of the event loop

    def ensure_started(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._loop.add_reader(self.notifier.fileno(), self._on_notify)
        self._task = self._loop.create_task(self._run(), name="sqlite-log-follower")

    # ---- inputs ---------------------------------------------------------------
    def _on_notify(self) -> None:
        if self.notifier.drain():
            self.request_read()

    def request_read(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def committed(self, start: int, results: list, events: list, end: int) -> None:
        """Our writer committed rows start+1..end (on the event loop)."""
        if not events:   # nothing stored (errors, a compaction): nothing to order
            self.store._resolve(results)
            return
        self._pending[start] = (results, events, end)
        if not self._reading:
            self._apply_pending()
        if self._pending:
            self.request_read()   # others' rows come before ours

    def want_progress(self, watcher: WatchStream) -> None:
        self._progress_wanted.add(watcher)
        self.request_read()

    def head(self) -> int:
        """The newest revision in the file; asks for a read when we have not seen it yet.

        One read per turn of the event loop serves every consistent read of that turn (an
        admitted create makes several): the forgetting callback is queued now, so it runs
        at the start of the next turn, before the callbacks of anything the next poll
        brings in. A request therefore never gets a head read before it arrived, and the
        query (which gives up the GIL, to the reader and writer threads) runs once a turn,
        not once a read."""
        self.ensure_started()
        head = self._head
        if head is None:
            head = self._head = sqlite_log.read_current_revision(self._head_conn)
            self._loop.call_soon(self._forget_head)
        if head > self.store._published:
            self.request_read()
        return head

    def _forget_head(self) -> None:
        self._head = None

    # ---- ordering ---------------------------------------------------------------
    def _publish(self, events: list) -> None:
        store = self.store
        fresh = [e for e in events if e.kv.mod_revision > store._published]
        if fresh:
            store._fan_out(fresh)
            store._published = fresh[-1].kv.mod_revision

    def _apply_pending(self) -> None:
        """Fan out our own batches that now follow on from what was published."""
        store = self.store
        while self._pending:
            start = min(self._pending)
            if start > store._published:
                return
            results, events, end = self._pending.pop(start)
            self._publish(events)
            store._published = max(store._published, end)
            store._resolve(results)

    async def _read_up_to(self, target: int | None, on_loop: bool) -> bool:
        """Read and fan out the log after what was published, up to target; True if more remains.

        on_loop: read at most _LOOP_CHUNK rows on the event loop's own connection. Under
        writes from every worker this runs after nearly each commit for a handful of rows;
        handing that to a reader thread and back cost more than the read (the submit, the
        wake-up of the loop, the GIL passed to and fro). Longer catch-ups go to the pool."""
        store = self.store
        self._reading = True
        try:
            if on_loop:
                limit = _LOOP_CHUNK
                events, seen, compacted = sqlite_log.read_log_after(self._head_conn, store._published, target, limit)
            else:
                limit = _CHUNK
                events, seen, compacted = await store._read(sqlite_log.read_log_after, store._published, target, limit)
        finally:
            self._reading = False
        store._compacted = max(store._compacted, compacted)
        self._publish(events)
        store._published = max(store._published, seen)
        return len(events) == limit

    async def _catch_up(self) -> None:
        on_loop = True   # a few rows, usually; a full read says there are many: the pool then
        while True:
            self._apply_pending()
            target = min(self._pending) if self._pending else None
            more = await self._read_up_to(target, on_loop)
            on_loop = not more
            self._apply_pending()
            if not (more or self._pending):
                return

    def _give_progress(self) -> None:
        if self._progress_wanted:
            wanted, self._progress_wanted = self._progress_wanted, set()
            mark = bookmark(self.store._published)
            for w in wanted:
                w.push(mark)

    async def _run(self) -> None:
        while not self._stopped:
            # A timer rather than asyncio.wait_for: on Python 3.11, wait_for loses a cancellation
            # that arrives as the event is set, and the store's close() then waited forever.
            timer = self._loop.call_later(POLL_INTERVAL_S, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
            self._wake.clear()
            if self._stopped:
                return
            try:
                await self._catch_up()
            except CompactedError as e:
                # Rows we never saw are gone: every watcher starts over (the watch cache re-lists).
                log.warning("fell behind the compacted log (%s); ending every watch", e)
                self.store._published = max(self.store._published, e.compacted)
                for w in self.store._watchers.all():
                    w.end()
            except Exception:
                if self.store._closed:
                    return
                log.exception("reading the shared log failed; retrying")
                await asyncio.sleep(POLL_INTERVAL_S)
            self._give_progress()

    async def close(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.notifier.fileno())
        self.notifier.close()
        self._head_conn.close()
