"""The storage backend, timed: etcd_request_duration_seconds{operation,type}.

Sits between the watch cache and the backend (SQLite or etcd), so what it times
is what reaches the store, not reads the cache answers. `type` is the resource
segment of the key (`pods` for /registry/pods/...), as upstream names the
object's type. Everything not timed is passed through.
"""
from __future__ import annotations

import time

from promtext import Histogram
from apiserver.storage.forwarding import ForwardingStore
from apiserver.storage.interface import Store

_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60)


def object_type(key: str) -> str:
    parts = key.split("/", 3)
    return parts[2] if len(parts) > 2 else ""


def storage_histogram() -> Histogram:
    return Histogram("etcd_request_duration_seconds",
                     "Etcd request latency in seconds for each operation and object type.",
                     ("operation", "type"), _BUCKETS)


class InstrumentedStore(ForwardingStore):
    def __init__(self, backend: Store, timings: Histogram):
        super().__init__(backend)
        self.timings = timings

    async def _timed(self, operation: str, key: str, call):
        start = time.perf_counter()
        try:
            return await call
        finally:
            self.timings.observe((operation, object_type(key)), time.perf_counter() - start)

    async def create(self, key, value):
        return await self._timed("create", key, self.backend.create(key, value))

    async def get(self, key):
        return await self._timed("get", key, self.backend.get(key))

    async def update(self, key, value, expected_revision=None):
        return await self._timed("update", key, self.backend.update(key, value, expected_revision))

    async def delete(self, key, expected_revision=None):
        return await self._timed("delete", key, self.backend.delete(key, expected_revision))

    async def list(self, prefix, *, limit=0, start_key=None, revision=0):
        return await self._timed("list", prefix, self.backend.list(prefix, limit=limit, start_key=start_key,
                                                                  revision=revision))

    async def guaranteed_update(self, key, mutate, *, attempts=16):
        return await self._timed("guaranteed_update", key,
                                 self.backend.guaranteed_update(key, mutate, attempts=attempts))
