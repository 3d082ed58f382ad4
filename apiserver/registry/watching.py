"""A watch on one resource: storage events turned into API watch events.

Selectors are applied with the object's previous value, so an object that
starts matching arrives as ADDED and one that stops matching as DELETED.
A watch without a resourceVersion (or "0") starts with ADDED for every current
object, as upstream does. A pump task moves storage events into a queue so
the HTTP layer can wait with a timeout (for bookmarks) without cancelling the
storage iterator.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import orjson

from apiserver.machinery import errors
from apiserver.registry.objects import StoredObject
from apiserver.registry.options import ListOptions, parse_resource_version
from apiserver.storage.interface import CompactedError, FutureRevisionError, WatchEvent

if TYPE_CHECKING:
    from apiserver.registry.store import GenericStore

_END = object()
QUEUE_LIMIT = 10_000  # a watcher this far behind is dropped (upstream does too)


class WatchStream:
    """Iterate `await next(timeout)` → (type, StoredObject) | None on timeout.
    `revision` is the newest revision seen (for bookmarks)."""

    def __init__(self, store: "GenericStore", namespace: str, opts: ListOptions):
        self.store = store
        self.namespace = namespace
        self.opts = opts
        self.revision = 0
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._initial: list[StoredObject] = []
        self._lsel, self._fsel = store.selection(opts)

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
        self._task = asyncio.create_task(self._pump(self.revision))

    async def _pump(self, from_revision: int) -> None:
        prefix = self.store.list_prefix(self.namespace)
        it = self.store.store.watch(prefix, from_revision)
        try:
            async for ev in it:
                self._queue.put_nowait(ev)
                if self._queue.qsize() > QUEUE_LIMIT:
                    self._queue.put_nowait(errors.internal_error("watch fell too far behind"))
                    return
        except CompactedError:
            self._queue.put_nowait(errors.too_old_resource_version(from_revision))
        except FutureRevisionError:
            self._queue.put_nowait(errors.too_old_resource_version(from_revision))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # storage failure: end the stream with an error event
            self._queue.put_nowait(errors.internal_error(str(e)))
        finally:
            close = getattr(it, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    pass
            self._queue.put_nowait(_END)

    async def next(self, timeout: float | None = None):
        """The next event: ("ADDED"|"MODIFIED"|"DELETED", StoredObject),
        ("ERROR", StatusError), None on timeout, or raises StopAsyncIteration."""
        if self._initial:
            return "ADDED", self._initial.pop()
        while True:
            try:
                if timeout is None:
                    ev = await self._queue.get()
                else:
                    ev = await asyncio.wait_for(self._queue.get(), timeout)
            except asyncio.TimeoutError:
                return None
            if ev is _END:
                raise StopAsyncIteration
            if isinstance(ev, errors.StatusError):
                return "ERROR", ev
            out = self._translate(ev)
            if out is not None:
                return out

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
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None


def encode_event(kind: str, obj_json: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + obj_json + b"}\n"


def bookmark_object(resource, revision: int) -> bytes:
    return orjson.dumps({"kind": resource.kind, "apiVersion": resource.api_version,
                         "metadata": {"resourceVersion": str(revision)}})
