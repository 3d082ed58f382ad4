"""A watch stream: an async iterator over a per-watcher buffer of events.

Producers call push() from the event loop; the consumer iterates. A watcher whose
buffer overflows (it reads slower than events arrive) is closed, as upstream
closes unresponsive watchers: its iterator ends and the client re-watches from
the last revision it saw (or gets 410 and re-lists). Other watchers never wait
for a slow one.
"""
from __future__ import annotations

import asyncio
import collections
import logging
from typing import Callable

from .interface import KeyValue, WatchEvent

log = logging.getLogger(__name__)


def bookmark(revision: int) -> WatchEvent:
    """A progress notification: every change up to `revision` has been delivered."""
    return WatchEvent("BOOKMARK", KeyValue("", b"", revision, 0))


class WatchStream:
    """Iterate with `async for`; close with `await stream.aclose()`.

    `request_progress()` asks for a BOOKMARK event carrying a revision up to which
    all changes have been delivered (the watch cache uses it for consistent reads;
    the HTTP layer may use it for allowWatchBookmarks)."""

    def __init__(self, prefix: str, from_revision: int, max_buffer: int | None):
        self.prefix = prefix
        self.from_revision = from_revision
        self.last_revision = from_revision
        self._max_buffer = max_buffer
        self._buf: collections.deque[WatchEvent] = collections.deque()
        self._waiter: asyncio.Future | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._on_close: Callable[["WatchStream"], None] | None = None
        self._sink: Callable[[WatchEvent], bool] | None = None
        self.overflowed = False

    # producer side ---------------------------------------------------------
    def push(self, event: WatchEvent) -> None:
        if self._closed:
            return
        if self._sink is not None and not self._buf and event.type != "BOOKMARK":
            rev = event.kv.mod_revision
            if rev <= self.last_revision:
                return  # already delivered (replay overlap)
            try:
                taken = self._sink(event)
            except Exception:  # the consumer will meet it again, buffered, and report it
                log.exception("watch on %s: direct delivery failed", self.prefix)
                taken = False
            if taken:
                self.last_revision = rev
                return
        if self._max_buffer is not None and len(self._buf) >= self._max_buffer:
            log.warning("closing watch on %s: %d events unread", self.prefix, len(self._buf))
            self.overflowed = True
            self.end()
            return
        self._buf.append(event)
        self._wake()

    def push_many(self, events: list[WatchEvent]) -> None:
        for e in events:
            self.push(e)

    def fail(self, error: BaseException) -> None:
        """End the stream with an error raised to the consumer after buffered events."""
        if self._error is None:
            self._error = error
        self._closed = True
        self._wake()
        self._unregister()

    def end(self) -> None:
        """End the stream quietly (the consumer sees the iterator finish)."""
        self._closed = True
        self._wake()
        self._unregister()

    def deliver_to(self, sink: Callable[[WatchEvent], bool] | None) -> None:
        """While set (and nothing is buffered), push() hands each event straight to
        `sink` instead of buffering it and waking the consumer: one call in the
        producer's loop instead of a task switch per watcher. sink returns False to
        refuse an event, which is then buffered as usual, and so are all after it until
        the consumer has read them. Bookmarks (ticks, progress) are always buffered."""
        self._sink = sink

    def request_progress(self) -> None:  # overridden by producers that know a revision
        pass

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _unregister(self) -> None:
        cb, self._on_close = self._on_close, None
        if cb is not None:
            cb(self)

    # consumer side ---------------------------------------------------------
    def __aiter__(self) -> "WatchStream":
        return self

    async def _prepare(self) -> None:
        """Hook run before the first event is read (replay from history)."""

    async def start(self) -> None:
        """Attach now rather than on first iteration (raises what that would)."""
        await self._prepare()

    def _next_buffered(self) -> WatchEvent | None:
        """The next deliverable buffered event, or None when the buffer holds none."""
        while self._buf and not self.overflowed:
            ev = self._buf.popleft()
            if ev.type != "BOOKMARK":
                if ev.kv.mod_revision <= self.last_revision:
                    continue  # already delivered (replay overlap)
                self.last_revision = ev.kv.mod_revision
            elif ev.kv.mod_revision < self.last_revision:
                continue
            return ev
        return None

    def take_buffered(self) -> list[WatchEvent]:
        """Everything deliverable that is buffered now, without waiting: what the next
        iterations would return, for a consumer that wants to catch up in one go
        (the watch cache, before a consistent read). Errors and the end are left
        for the iterator to report."""
        out = []
        while (ev := self._next_buffered()) is not None:
            out.append(ev)
        return out

    async def __anext__(self) -> WatchEvent:
        await self._prepare()
        while True:
            if self._buf:
                if self.overflowed:
                    # the buffer's tail is incomplete: deliver nothing more
                    self._buf.clear()
                    raise StopAsyncIteration
                ev = self._next_buffered()
                if ev is None:
                    continue
                return ev
            if self._error is not None:
                err, self._error = self._error, None
                raise err
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def aclose(self) -> None:
        self._closed = True
        self._buf.clear()
        self._wake()
        self._unregister()

    def buffered(self) -> int:
        return len(self._buf)
