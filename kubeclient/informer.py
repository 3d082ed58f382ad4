"""Informer: a local, always-current copy of one kind of object, with change handlers.

It lists once, then watches from the list's resourceVersion; every event updates
the cache (keyed namespace/name) and calls the handlers. If the watch expires
(410) it relists and turns the difference with the cache into add/update/delete
calls, so handlers never miss a change. A periodic resync calls on_update for
every cached object so level-triggered controllers get a second look.
Handlers may be plain functions or coroutines; keep them quick (enqueue a key).
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Hashable

from .client import ApiClient, ApiError, ResourceExpired
from .resources import Resource, object_key

log = logging.getLogger(__name__)


NAMESPACE_INDEX = "namespace"


def _namespace_of(obj: dict) -> str | None:
    return (obj.get("metadata") or {}).get("namespace")


def _unbucket(buckets: dict, value, key: str) -> None:
    objs = buckets.get(value)
    if objs is not None:
        objs.pop(key, None)
        if not objs:
            del buckets[value]


class Informer:
    def __init__(self, client: ApiClient, resource: Resource, namespace: str | None = None, *,
                 label_selector: str | None = None, field_selector: str | None = None,
                 resync_period: float | None = None):
        self.client, self.resource, self.namespace = client, resource, namespace
        self.label_selector, self.field_selector = label_selector, field_selector
        self.resync_period = resync_period
        self.cache: dict[str, dict] = {}  # key -> object; change it through _put/_drop (the indexes follow)
        # index name -> (value of an object, {value: {key: object}}). A controller's sync reads one
        # namespace's objects (or one owner's), once per event; scanning the whole cache for them
        # cost O(every pod) per pod event at scale
        self._indexes: dict[str, tuple[Callable[[dict], Hashable | None], dict]] = {}
        self.add_index(NAMESPACE_INDEX, _namespace_of)
        self._handlers: list[tuple[Callable | None, Callable | None, Callable | None]] = []
        self._synced = asyncio.Event()
        self.resource_version: str | None = None
        self.relists = 0  # a metric

    # --- reading the cache -------------------------------------------------------------
    def get(self, key: str) -> dict | None:
        return self.cache.get(key)

    def list(self, namespace: str | None = None) -> list[dict]:
        if namespace is None:
            return list(self.cache.values())
        return self.by_index(NAMESPACE_INDEX, namespace)

    def add_index(self, name: str, value_of: Callable[[dict], Hashable | None]) -> None:
        """Keep the objects grouped by value_of(obj) (None: not indexed), for by_index. Informers
        are shared: a second add under the same name keeps the first."""
        if name in self._indexes:
            return
        buckets: dict = {}
        self._indexes[name] = (value_of, buckets)
        for key, obj in self.cache.items():
            value = value_of(obj)
            if value is not None:
                buckets.setdefault(value, {})[key] = obj

    def by_index(self, name: str, value: Hashable) -> list[dict]:
        return list(self._indexes[name][1].get(value, {}).values())

    def _put(self, key: str, obj: dict) -> None:
        old = self.cache.get(key)
        self.cache[key] = obj
        for value_of, buckets in self._indexes.values():
            value = value_of(obj)
            if old is not None:
                old_value = value_of(old)
                if old_value != value:
                    _unbucket(buckets, old_value, key)
            if value is not None:
                buckets.setdefault(value, {})[key] = obj

    def _drop(self, key: str) -> dict | None:
        old = self.cache.pop(key, None)
        if old is not None:
            for value_of, buckets in self._indexes.values():
                _unbucket(buckets, value_of(old), key)
        return old

    def forget(self, key: str) -> None:
        """Drop an object from the cache without calling handlers: one we just deleted, so
        that a sync before its watch event does not count it."""
        self._drop(key)

    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    def add_handler(self, on_add: Callable | None = None, on_update: Callable | None = None,
                    on_delete: Callable | None = None) -> None:
        """on_add(obj), on_update(old, new), on_delete(obj). Added late, it sees the cache as adds."""
        self._handlers.append((on_add, on_update, on_delete))
        if on_add and self.has_synced:
            for obj in list(self.cache.values()):
                self._call(on_add, obj)

    def assume(self, obj: dict) -> None:
        """Put an object we just wrote into the cache before its watch event arrives,
        unless the watch is already past that write (it can be ahead of the write's
        response): then the cache holds that version, a newer one, or none because the
        object was deleted since. Put back then, a deleted object would live on in the
        cache with no event ever to remove it (a Job deleted just after its status was
        written kept its controller counting pods it could no longer own, their
        finalizers never released). resourceVersions are compared as integers, which
        both our store and etcd produce; anything else is left to the watch."""
        key = object_key(obj)
        current = self.cache.get(key)
        try:
            rv = int(obj["metadata"]["resourceVersion"])
            if self.resource_version is not None and rv <= int(self.resource_version):
                return
            if current is not None and rv <= int(current["metadata"]["resourceVersion"]):
                return
        except (KeyError, TypeError, ValueError):
            return
        self._put(key, obj)

    # --- the loop ------------------------------------------------------------------------
    def _call(self, fn, *args) -> None:
        try:
            result = fn(*args)
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)
        except Exception:  # a handler bug must not kill the informer
            log.exception("informer %s handler failed", self.resource.plural)

    def _emit(self, kind: int, *args) -> None:
        for handlers in self._handlers:
            if handlers[kind]:
                self._call(handlers[kind], *args)

    def _apply(self, etype: str, obj: dict) -> None:
        key = object_key(obj)
        old = self.cache.get(key)
        if etype == "DELETED":
            self._drop(key)
            self._emit(2, obj)
        else:
            self._put(key, obj)
            if old is None:
                self._emit(0, obj)
            else:
                self._emit(1, old, obj)

    async def _relist(self) -> None:
        lst = await self.client.list_all(self.resource, self.namespace, label_selector=self.label_selector,
                                         field_selector=self.field_selector)
        kind = (lst.get("kind") or "").removesuffix("List")
        fresh = {}
        for item in lst.get("items") or []:
            # list items carry no kind/apiVersion on the wire; handlers expect whole objects
            item.setdefault("kind", kind)
            item.setdefault("apiVersion", self.resource.api_version)
            fresh[object_key(item)] = item
        for key, old in list(self.cache.items()):
            if key not in fresh:
                self._drop(key)
                self._emit(2, old)
        for key, obj in fresh.items():
            self._apply("MODIFIED" if key in self.cache else "ADDED", obj)
        self.resource_version = (lst.get("metadata") or {}).get("resourceVersion")
        self.relists += 1
        self._synced.set()

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_period)
            for obj in list(self.cache.values()):
                self._emit(1, obj, obj)

    async def run(self) -> None:
        """Run until cancelled. Errors are retried with back-off; 410 means relist."""
        resync = asyncio.ensure_future(self._resync_loop()) if self.resync_period else None
        delay = 0.2
        try:
            while True:
                try:
                    await self._relist()
                    delay = 0.2
                    watch = self.client.watch(self.resource, self.namespace, resource_version=self.resource_version,
                                              label_selector=self.label_selector,
                                              field_selector=self.field_selector)
                    async for etype, obj in watch:
                        self._apply(etype, obj)
                        self.resource_version = watch.resource_version
                except ResourceExpired:
                    log.info("informer %s: watch expired, relisting", self.resource.plural)
                except ApiError as e:
                    log.warning("informer %s: %s; retrying in %.1fs", self.resource.plural, e, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
        finally:
            if resync:
                resync.cancel()
