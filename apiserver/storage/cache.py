"""CachedStore: the watch cache in front of a backend Store.

One backend watch per resource prefix (`/registry/<resource>/`) keeps a
ResourceState current; gets, lists and watches are answered from it, so
thousands of watchers cost one backend watch, and KeyValues (with their value
bytes) are shared by every reader. Writes pass straight through.

Consistent reads (get, list at revision 0), as upstream's consistent reads from
cache: read the backend's current revision R, then wait until the cache has
seen everything up to R (events, or a progress bookmark asked of the backend
watch). If that takes too long, the read goes to the backend instead.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from .cache_state import ResourceState
from .interface import CompactedError, KeyValue, ListResult, RevisionConflictError, Store, WatchEvent
from .keys import resource_prefix
from .stream import WatchStream, bookmark

log = logging.getLogger(__name__)

_LIST_PAGE = 10_000
_FRESH_TIMEOUT_S = 3.0


class _CacheWatch(WatchStream):
    def __init__(self, rc: "_ResourceCache", prefix: str, from_revision: int, max_buffer: int | None):
        super().__init__(prefix, from_revision, max_buffer)
        self._rc = rc

    def request_progress(self) -> None:
        """A bookmark at the backend's current revision, once the cache has it."""
        task = asyncio.get_running_loop().create_task(self._progress())
        self._rc.tasks.add(task)   # keep a reference until done
        task.add_done_callback(self._rc.tasks.discard)

    async def _progress(self) -> None:
        rc = self._rc
        if await rc.owner.reliable_progress():
            target = await rc.owner.backend.current_revision()
            if not await rc.wait_revision(target):
                return
        elif not rc.ready.is_set():
            return
        self.push(bookmark(rc.state.revision))


class _ResourceCache:
    """One resource prefix: its state, its backend watch, its watchers."""

    def __init__(self, owner: "CachedStore", prefix: str):
        self.owner = owner
        self.prefix = prefix
        self.state: ResourceState | None = None
        self.ready = asyncio.Event()
        self.watchers: set[_CacheWatch] = set()
        self.waiters: list[tuple[int, asyncio.Future]] = []
        self.stream: WatchStream | None = None
        self.progress_pending = False
        self.tasks: set[asyncio.Task] = set()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _load(self) -> None:
        backend = self.owner.backend
        page = await backend.list(self.prefix, limit=_LIST_PAGE)
        items, rev = list(page.items), page.revision
        while page.more:
            page = await backend.list(
                self.prefix, limit=_LIST_PAGE, start_key=page.items[-1].key + "\x00", revision=rev
            )
            items.extend(page.items)
        self.state = ResourceState(self.prefix, items, rev, self.owner.window)
        self.stream = backend.watch(self.prefix, rev, max_buffer=None)
        await self.stream.start()

    async def _run(self) -> None:
        delay = 0.05
        while True:
            try:
                await self._load()
                self.ready.set()
                delay = 0.05
                await self._feed()
                log.warning("backend watch on %s ended; reloading the cache", self.prefix)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # compacted, unavailable: start over from a fresh list
                log.warning("watch cache for %s failed (%s); reloading", self.prefix, e)
            self.ready.clear()
            self.progress_pending = False
            if self.stream is not None:
                await self.stream.aclose()
                self.stream = None
            for w in list(self.watchers):
                w.end()   # they re-watch from their last revision, as after a restart
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _feed(self) -> None:
        async for ev in self.stream:
            self._apply(ev)
            if self.waiters:
                self._wake_waiters()

    def _apply(self, ev: WatchEvent) -> None:
        if ev.type == "BOOKMARK":
            self.progress_pending = False
            self.state.progress(ev.kv.mod_revision)
        else:
            self.state.apply(ev)
            key = ev.kv.key
            for w in list(self.watchers):
                if key.startswith(w.prefix):
                    w.push(ev)

    def _catch_up(self) -> bool:
        """Apply at once what the backend watch has buffered (the feed task would on
        its next turn, in the same order); it then finds the buffer empty."""
        events = self.stream.take_buffered() if self.stream is not None else []
        for ev in events:
            self._apply(ev)
        return bool(events)

    def _wake_waiters(self) -> None:
        rev = self.state.revision
        still = []
        for target, fut in self.waiters:
            if target <= rev:
                if not fut.done():
                    fut.set_result(None)
            else:
                still.append((target, fut))
        self.waiters = still
        if still:
            self._ask_progress()

    def _ask_progress(self) -> None:
        if not self.progress_pending and self.stream is not None:
            self.progress_pending = True
            self.stream.request_progress()

    async def wait_revision(self, target: int) -> bool:
        """Wait until the cache reflects revision `target`; False on timeout."""
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), _FRESH_TIMEOUT_S)
            except asyncio.TimeoutError:
                return False
        if self.state.revision >= target:
            return True
        # Under writes the cache is usually one loop turn behind: a backend that answers
        # progress requests at once (SQLite) lets every read catch up here, with no
        # future, timer or task switch per read.
        self._ask_progress()
        if self._catch_up() and self.waiters:
            self._wake_waiters()  # the feed task will not see these events to wake them
        if self.state.revision >= target:
            return True
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append((target, fut))
        self._ask_progress()
        try:
            await asyncio.wait_for(fut, _FRESH_TIMEOUT_S)
            return True
        except asyncio.TimeoutError:
            log.warning("watch cache for %s is behind revision %d", self.prefix, target)
            return False

    async def close(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except (asyncio.CancelledError, Exception):
            pass
        if self.stream is not None:
            await self.stream.aclose()
        for w in list(self.watchers):
            w.end()


class CachedStore(Store):
    def __init__(self, backend: Store, *, window: int = 10_000, watcher_buffer: int = 10_000):
        self.backend = backend
        self.window = window
        self.watcher_buffer = watcher_buffer
        self._caches: dict[str, _ResourceCache] = {}
        self._reliable: bool | None = None

    async def start(self, prefixes: list[str]) -> None:
        """Optionally warm the caches of these resource prefixes up front."""
        rcs = [self._cache(p) for p in prefixes]
        await asyncio.gather(*(rc.ready.wait() for rc in rcs if rc is not None))

    def _cache(self, key_or_prefix: str) -> _ResourceCache | None:
        prefix = resource_prefix(key_or_prefix)
        if prefix is None:
            return None
        rc = self._caches.get(prefix)
        if rc is None:
            rc = self._caches[prefix] = _ResourceCache(self, prefix)
        return rc

    def object_counts(self) -> dict[str, int]:
        """Objects held per resource (`pods`), for the resources cached so far."""
        return {rc.prefix.split("/")[2]: len(rc.state.items) for rc in list(self._caches.values())
                if rc.state is not None}

    async def reliable_progress(self) -> bool:
        """Whether the backend's watch bookmarks can be trusted for consistent reads
        (etcd before 3.4.31/3.5.13 may send one ahead of events, so upstream
        reads from etcd there; so do we)."""
        if self._reliable is None:
            reliable = await self.backend.reliable_progress()
            if not reliable:
                return False   # maybe etcd was unreachable: ask again next time
            self._reliable = True
        return self._reliable

    async def _fresh_cache(self, key_or_prefix: str) -> _ResourceCache | None:
        """The resource's cache, caught up with the backend; None to read the backend."""
        rc = self._cache(key_or_prefix)
        if rc is None or not await self.reliable_progress():
            return None
        target = await self.backend.current_revision()
        return rc if await rc.wait_revision(target) else None

    # ---- writes go to the backend ----------------------------------------
    async def create(self, key: str, value: bytes) -> int:
        self._cache(key)  # a resource being written will be read and watched soon
        return await self.backend.create(key, value)

    async def update(self, key: str, value: bytes, expected_revision: int | None = None) -> int:
        return await self.backend.update(key, value, expected_revision)

    async def delete(self, key: str, expected_revision: int | None = None) -> KeyValue:
        return await self.backend.delete(key, expected_revision)

    async def guaranteed_update(
        self,
        key: str,
        mutate: Callable[[KeyValue], Awaitable[bytes | None]],
        *,
        attempts: int = 16,
    ) -> tuple[int, bytes] | None:
        # First try the cached value without waiting for freshness (usually
        # current, and the write is conditioned on its revision anyway). As
        # upstream does, anything a possibly stale value led to (a conflict, an
        # error from `mutate`, "nothing to change") is retried on a consistent read.
        rc = self._cache(key)
        if rc is not None and rc.ready.is_set():
            current = rc.state.items.get(key)
            if current is not None:
                try:
                    new_value = await mutate(current)
                except Exception:
                    new_value = None
                if new_value is not None:
                    try:
                        rev = await self.backend.update(key, new_value, expected_revision=current.mod_revision)
                        return rev, new_value
                    except RevisionConflictError:
                        pass
        return await super().guaranteed_update(key, mutate, attempts=attempts)

    # ---- reads from memory ------------------------------------------------
    async def get(self, key: str) -> KeyValue | None:
        rc = await self._fresh_cache(key)
        if rc is None:
            return await self.backend.get(key)
        return rc.state.items.get(key)

    async def list(
        self, prefix: str, *, limit: int = 0, start_key: str | None = None, revision: int = 0
    ) -> ListResult:
        rc = self._cache(prefix)
        if revision:
            # a snapshot older than the backend's horizon is gone even when the cache
            # still holds that state (nothing changed since): as etcd answers, 410
            # (etcd keeps the compaction revision itself readable)
            compacted = await self.backend.compacted_revision()
            if revision < compacted:
                raise CompactedError(revision, compacted)
        if rc is not None:
            if revision == 0:
                rc = await self._fresh_cache(prefix)
            elif not (rc.ready.is_set() and rc.state.can_serve_at(revision)):
                rc = None  # an older snapshot: the backend keeps history
        if rc is None:
            return await self.backend.list(prefix, limit=limit, start_key=start_key, revision=revision)
        state = rc.state
        items, more, remaining = state.list(prefix, limit, start_key)
        return ListResult(items, revision or state.revision, more, remaining)

    # ---- reads that may be older: resourceVersion "0" (any) or N (not older than N) ----
    async def get_not_older_than(self, key: str, revision: int) -> KeyValue | None:
        rc = self._cache(key)
        if rc is not None and await self._exact_revision(rc) >= max(revision, 1):
            return rc.state.items.get(key)
        return await super().get_not_older_than(key, revision)

    async def list_not_older_than(
        self, prefix: str, revision: int, *, limit: int = 0, start_key: str | None = None
    ) -> ListResult:
        rc = self._cache(prefix)
        if rc is not None:
            rev = await self._exact_revision(rc)
            if rev >= max(revision, 1):
                items, more, remaining = rc.state.list(prefix, limit, start_key)
                return ListResult(items, rev, more, remaining)
        return await super().list_not_older_than(prefix, revision, limit=limit, start_key=start_key)

    async def _exact_revision(self, rc: _ResourceCache) -> int:
        """The newest revision the cache holds the exact state of, without asking the
        backend; 0 while it loads (upstream's cacher then reads "any" from storage too).
        A bookmark from an etcd that may send one ahead of its events does not count."""
        state = rc.state
        if not rc.ready.is_set() or state is None:
            return 0
        if state.revision == state.last_event_revision or await self.reliable_progress():
            return state.revision
        return state.last_event_revision

    def watch(self, prefix: str, from_revision: int, *, max_buffer: int | None = -1) -> WatchStream:
        if max_buffer == -1:
            max_buffer = self.watcher_buffer
        rc = self._cache(prefix)
        if rc is None:
            return self.backend.watch(prefix, from_revision)
        return _LazyCacheWatch(self, rc, prefix, from_revision, max_buffer)

    async def current_revision(self) -> int:
        return await self.backend.current_revision()

    async def compacted_revision(self) -> int:
        return await self.backend.compacted_revision()

    async def compact(self, revision: int) -> None:
        await self.backend.compact(revision)

    async def healthy(self) -> bool:
        return await self.backend.healthy()

    def start_compactor(self, *args, **kwargs) -> None:
        start = getattr(self.backend, "start_compactor", None)
        if start is not None:
            start(*args, **kwargs)

    async def close(self) -> None:
        caches, self._caches = list(self._caches.values()), {}
        for rc in caches:
            await rc.close()
        await self.backend.close()


class _LazyCacheWatch(_CacheWatch):
    """Attaches to the resource cache on first iteration: from the ring when the
    revision is inside the window, else from a backend watch (which replays
    history, or raises CompactedError)."""

    def __init__(self, owner: CachedStore, rc: _ResourceCache, prefix: str, from_revision: int, max_buffer):
        super().__init__(rc, prefix, from_revision, max_buffer)
        self._owner = owner
        self._attached = False
        self._delegate: WatchStream | None = None

    async def _prepare(self) -> None:
        if self._attached:
            return
        self._attached = True
        compacted = await self._owner.backend.compacted_revision()
        if self.from_revision < compacted:
            raise CompactedError(self.from_revision, compacted)
        rc = self._rc
        await rc.ready.wait()
        state = rc.state
        if self.from_revision >= state.window_start:
            self._buf.extend(state.events_after(self.from_revision, self.prefix))
            self._on_close = rc.watchers.discard
            rc.watchers.add(self)
        else:
            self._delegate = self._owner.backend.watch(self.prefix, self.from_revision)
            while self._buf:   # anything pushed before attaching (ticks) goes along
                self._delegate.push(self._buf.popleft())

    async def __anext__(self) -> WatchEvent:
        await self._prepare()
        if self._delegate is not None:
            return await self._delegate.__anext__()
        return await super().__anext__()

    def request_progress(self) -> None:
        if self._delegate is not None:
            self._delegate.request_progress()
        else:
            super().request_progress()

    def push(self, event: WatchEvent) -> None:
        # the registry pushes its own BOOKMARK ticks; they must reach the stream being read
        if self._delegate is not None:
            self._delegate.push(event)
        else:
            super().push(event)

    async def aclose(self) -> None:
        await super().aclose()
        if self._delegate is not None:
            await self._delegate.aclose()
