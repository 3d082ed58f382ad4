"""A watch on one resource: storage events turned into API watch events.

Selectors are applied with the object's previous value, so an object that
starts matching arrives as ADDED and one that stops matching as DELETED.
A watch without a resourceVersion (or "0") starts with ADDED for every current
object, as upstream does. A timer per watch makes the stream return None
now and then, so the HTTP layer can send bookmarks and end at its deadline.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import orjson

from apiserver.machinery import errors
from apiserver.registry.objects import StoredObject
from apiserver.registry.options import ListOptions, parse_resource_version
from apiserver.storage.interface import CompactedError, FutureRevisionError, KeyValue, WatchEvent

if TYPE_CHECKING:
    from apiserver.registry.store import GenericStore

class WatchStream:
    """Iterate `await next(timeout)` → (type, StoredObject) | ("ERROR", StatusError)
    | None on timeout; raises StopAsyncIteration at the end. `revision` is a
    revision up to which every change has been delivered (for bookmarks)."""

    def __init__(self, store: "GenericStore", namespace: str, opts: ListOptions):
        self.store = store
        self.namespace = namespace
        self.opts = opts
        self.revision = 0
        self._it = None
        self._initial: list[StoredObject] = []
        self._lsel, self._fsel = store.selection(opts)
        self._failed = False
        self._pending: errors.StatusError | None = None
        self._timer: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        """Resolve the starting point (errors here are plain HTTP errors; a
        too-old revision becomes an in-stream 410 ERROR event)."""
        rv = self.opts.resource_version
        if rv in ("", "0"):
            page = await self.store.list(self.namespace, ListOptions(
                label_selector=self.opts.label_selector, field_selector=self.opts.field_selector))
            self._initial = page.items[::-1]  # popped from the end
            self.revision = page.resource_version
        else:
            self.revision = parse_resource_version(rv)
        self._it = self.store.storage.watch(self.store.list_prefix(self.namespace), self.revision)
        attach = getattr(self._it, "start", None)
        if attach is not None:
            # attach (and replay history) now, so a later timeout never cancels it half-way
            try:
                await attach()
            except (CompactedError, FutureRevisionError):
                self._pending = errors.too_old_resource_version(self.revision)

    def tick_every(self, interval: float, deadline: float) -> None:
        """Make next() return None every `interval` seconds and at `deadline`
        (loop time): for bookmarks and the watch's end. One timer per watch,
        re-armed only when it fires: arming a timeout on every wait cost a
        third of fanning an event out to many watchers."""
        loop = asyncio.get_running_loop()

        def tick():
            if self._it is None:
                return
            self._it.push(WatchEvent("BOOKMARK", KeyValue("", b"", self.revision, 0)))
            left = deadline - loop.time()
            if left > 0:
                self._timer = loop.call_later(min(interval, left), tick)

        self._timer = loop.call_later(min(interval, max(deadline - loop.time(), 0)), tick)

    def ready(self) -> bool:
        """Whether next() would answer without waiting (an event is buffered): the HTTP
        layer then sends it in the same write as the one before. False when unsure."""
        if self._initial:
            return True
        it = self._it
        if it is None or self._failed or self._pending is not None:
            return False
        buffered = getattr(it, "buffered", None)
        return buffered is not None and buffered() > 0

    def deliver_directly(self, write) -> bool:
        """Arm (or with None, disarm) direct delivery: until disarmed, each event that
        needs no waiting goes from the storage fan-out straight to write(type, StoredObject)
        -> bool, translated as next() would, without waking this watch's task. A refused
        event (False) and everything after it wait for next() as usual. False when
        direct delivery is not possible now (events or an error still to be read, an
        asynchronous conversion, a storage stream that cannot)."""
        it = self._it
        deliver_to = getattr(it, "deliver_to", None)
        if write is None:
            if deliver_to is not None:
                deliver_to(None)
            return False
        if deliver_to is None or self._initial or self._failed or self._pending is not None \
                or self.store.strategy.converts_async:
            return False

        selection = (self.opts.label_selector, self.opts.field_selector)

        def sink(ev: WatchEvent) -> bool:
            global _last_translated
            revision = self.revision
            last = _last_translated
            if last[0] is ev and last[1] is self.store and last[2] == selection:
                # Watchers with one selection see an event alike: filtered once for all of them.
                self.revision = ev.kv.mod_revision
                out = last[3]
            else:
                out = self._translate(ev)
                _last_translated = (ev, self.store, selection, out)
            if out is None or write(*out):
                return True
            self.revision = revision  # next() translates it again
            return False

        deliver_to(sink)
        return True

    async def next(self):
        """The next event: (type, StoredObject), ("ERROR", StatusError), or None
        when a tick passed; raises StopAsyncIteration when the storage stream ends."""
        if self._initial:
            return "ADDED", self._initial.pop()
        if self._failed:
            raise StopAsyncIteration
        if self._pending is not None:
            self._failed = True
            return "ERROR", self._pending
        while True:
            try:
                ev = await self._it.__anext__()
            except (CompactedError, FutureRevisionError):
                self._failed = True
                return "ERROR", errors.too_old_resource_version(self.revision)
            except StopAsyncIteration:
                raise
            except Exception as e:  # storage failure: end the stream with an error event
                self._failed = True
                return "ERROR", errors.internal_error(str(e))
            if ev.type == "BOOKMARK":  # our tick (or a storage progress note)
                self.revision = max(self.revision, ev.kv.mod_revision)
                return None
            try:
                await self._resolve(ev)
            except errors.StatusError as e:  # a conversion webhook failed: end with its error
                self._failed = True
                return "ERROR", e
            out = self._translate(ev)
            if out is not None:
                return out

    async def _resolve(self, ev: WatchEvent) -> None:
        """Convert the event's object (and the previous one, for selectors) before reading it."""
        if not self.store.strategy.converts_async:
            return
        items = [self.store.cache.get(ev.kv)]
        if ev.prev is not None and (self._lsel is not None or self._fsel is not None):
            items.append(self.store.cache.get(ev.prev))
        await self.store.resolve(items)

    def _translate(self, ev: WatchEvent):
        self.revision = ev.kv.mod_revision
        cache = self.store.cache
        obj = cache.get(ev.kv)
        filtering = self._lsel is not None or self._fsel is not None
        if ev.type == "DELETED":
            if filtering and not self.store.matches(obj.obj, self._lsel, self._fsel):
                return None
            return "DELETED", obj
        if not filtering:
            return ev.type, obj
        now = self.store.matches(obj.obj, self._lsel, self._fsel)
        before = False
        if ev.prev is not None:
            before = self.store.matches(cache.get(ev.prev).obj, self._lsel, self._fsel)
        if now and before:
            return "MODIFIED", obj
        if now:
            return "ADDED", obj
        if before:
            return "DELETED", obj
        return None

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        it, self._it = self._it, None
        close = getattr(it, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:
                pass


# The last event translated by direct delivery, with the store and selection it was
# translated for: the fan-out offers one event to each watcher of a resource in turn.
_last_translated: tuple = (None, None, None, None)


def encode_event(kind: str, obj_json: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + obj_json + b"}\n"


# The last event framed, by identity of its object: one committed event reaches every
# watcher of its resource in turn, so each frames it once, not once per watcher.
_last_framed: tuple[str, object, bytes] = ("", None, b"")


def encode_stored_event(kind: str, item: StoredObject) -> bytes:
    """encode_event for a stored object in its JSON form, framed once per event."""
    global _last_framed
    last_kind, last_item, framed = _last_framed
    if last_item is item and last_kind == kind:
        return framed
    framed = encode_event(kind, item.json)
    _last_framed = (kind, item, framed)
    return framed


def bookmark_object(resource, revision: int) -> bytes:
    return orjson.dumps({"kind": resource.kind, "apiVersion": resource.api_version,
                         "metadata": {"resourceVersion": str(revision)}})
