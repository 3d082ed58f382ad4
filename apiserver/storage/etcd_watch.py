"""One etcd watch as a WatchStream: its own gRPC Watch stream, resumed from the
last delivered revision + 1 when a member is lost, and able to ask etcd for a
progress notification (a BOOKMARK) on request."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import grpc
from aetcd import rpc

from .etcd_conn import range_end, store_error
from .interface import CompactedError, KeyValue, StoreError, UnavailableError, WatchEvent
from .stream import WatchStream, bookmark

if TYPE_CHECKING:
    from .etcd import EtcdStore

log = logging.getLogger(__name__)


def to_event(keymap, e) -> WatchEvent:
    kv = e.kv
    key = keymap.from_etcd(kv.key)
    prev = None
    if e.HasField("prev_kv"):
        p = e.prev_kv
        prev = KeyValue(key, p.value, p.mod_revision, p.create_revision)
    if e.type == rpc.Event.DELETE:
        value = prev.value if prev is not None else b""
        create = prev.create_revision if prev is not None else 0
        return WatchEvent("DELETED", KeyValue(key, value, kv.mod_revision, create), prev)
    new = KeyValue(key, kv.value, kv.mod_revision, kv.create_revision)
    if kv.create_revision == kv.mod_revision:
        return WatchEvent("ADDED", new)
    return WatchEvent("MODIFIED", new, prev)


class EtcdWatch(WatchStream):
    def __init__(self, store: "EtcdStore", prefix: str, from_revision: int, max_buffer: int | None):
        super().__init__(prefix, from_revision, max_buffer)
        self._store = store
        self._task: asyncio.Task | None = None
        self._requests: asyncio.Queue | None = None
        self._created: asyncio.Future | None = None

    async def _prepare(self) -> None:
        if self._created is not None:
            await self._created
            return
        loop = asyncio.get_running_loop()
        self._created = loop.create_future()
        self._task = loop.create_task(self._run())
        await self._created   # CompactedError / UnavailableError surface here

    def request_progress(self) -> None:
        if self._requests is not None:
            self._requests.put_nowait(rpc.WatchRequest(progress_request=rpc.WatchProgressRequest()))

    async def _run(self) -> None:
        store = self._store
        key = store.keys.to_etcd(self.prefix)
        next_rev = self.from_revision + 1
        delay = 0.05
        while not self._closed:
            requests: asyncio.Queue = asyncio.Queue()
            requests.put_nowait(rpc.WatchRequest(create_request=rpc.WatchCreateRequest(
                key=key, range_end=range_end(key), start_revision=next_rev, prev_kv=True)))
            self._requests = requests

            async def outgoing():
                while True:
                    yield await requests.get()

            try:
                stub = await store._watch_stub()
                call = stub.Watch(outgoing())
                async for resp in call:
                    if resp.compact_revision:
                        raise CompactedError(next_rev - 1, resp.compact_revision)
                    if resp.canceled:
                        raise StoreError(f"etcd cancelled the watch: {resp.cancel_reason}")
                    if resp.created:
                        if not self._created.done():
                            self._created.set_result(None)
                        delay = 0.05
                        continue
                    if not resp.events:   # a progress notification
                        self.push(bookmark(resp.header.revision))
                        continue
                    for e in resp.events:
                        ev = to_event(store.keys, e)
                        self.push(ev)
                        next_rev = ev.kv.mod_revision + 1
                raise UnavailableError("etcd closed the watch stream")
            except asyncio.CancelledError:
                raise
            except (grpc.aio.AioRpcError, UnavailableError) as e:
                err = store_error(e) if isinstance(e, grpc.aio.AioRpcError) else e
                if not self._created.done():
                    self._created.set_exception(err)
                    return
                if isinstance(err, CompactedError):
                    self.fail(CompactedError(next_rev - 1, 0))
                    return
                log.info("etcd watch on %s lost (%s); resuming at %d", self.prefix, err, next_rev)
            except StoreError as e:
                if not self._created.done():
                    self._created.set_exception(e)
                else:
                    self.fail(e)
                return
            finally:
                self._requests = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def aclose(self) -> None:
        await super().aclose()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
