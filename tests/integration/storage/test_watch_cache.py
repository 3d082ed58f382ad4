"""What the watch cache adds on top of the contract: one backend watch per
resource, slow watchers dropped without harming others, old revisions answered
from the backend's history."""
from __future__ import annotations

import asyncio

from apiserver.storage.cache import CachedStore
from apiserver.storage.sqlite import SQLiteStore

from tests.integration.storage.watch_helpers import P, assert_quiet, take


async def test_thousand_watchers_cost_one_backend_watch(tmp_path):
    backend = SQLiteStore(str(tmp_path / "s.db"))
    store = CachedStore(backend)
    try:
        await store.start([P])
        start = await store.current_revision()
        ws = [store.watch(P + ("ns/" if i % 2 else ""), start) for i in range(1000)]
        rev = await store.create(P + "ns/a", b"v")
        for w in ws:
            [e] = await take(w, 1)
            assert e.revision == rev
        assert len(backend._watchers) == 1
        for w in ws:
            await w.aclose()
    finally:
        await store.close()


async def test_slow_watcher_is_dropped_others_continue(tmp_path):
    store = CachedStore(SQLiteStore(str(tmp_path / "s.db")), watcher_buffer=5)
    try:
        start = await store.current_revision()
        slow, fast = store.watch(P, start), store.watch(P, start)
        await assert_quiet(slow)
        await assert_quiet(fast)
        got = []

        async def read_fast():
            while len(got) < 20:
                got.append(await fast.__anext__())

        reader = asyncio.ensure_future(read_fast())
        for i in range(20):
            await store.create(f"{P}ns/k{i}", b"v")
            await asyncio.sleep(0)
        await asyncio.wait_for(reader, 10)
        assert len(got) == 20
        seen = []
        async for e in slow:   # ends instead of blocking anyone
            seen.append(e)
        assert len(seen) < 20
        await fast.aclose()
    finally:
        await store.close()


async def test_watch_older_than_window_uses_backend_history(tmp_path):
    store = CachedStore(SQLiteStore(str(tmp_path / "s.db")), window=3)
    try:
        start = await store.current_revision()
        revs = [await store.create(f"{P}ns/k{i}", b"v") for i in range(10)]
        await store.list(P)  # cache running
        revs += [await store.create(f"{P}ns/m{i}", b"v") for i in range(5)]
        w = store.watch(P, start)
        try:
            assert [e.revision for e in await take(w, 15)] == revs
        finally:
            await w.aclose()
    finally:
        await store.close()


async def test_cached_reads_share_value_objects(tmp_path):
    store = CachedStore(SQLiteStore(str(tmp_path / "s.db")))
    try:
        await store.create(P + "ns/a", b"v" * 100)
        a = await store.get(P + "ns/a")
        b = (await store.list(P)).items[0]
        assert a is b or a.value is b.value
    finally:
        await store.close()


async def test_guaranteed_update_retries_a_stale_cached_read(tmp_path):
    """mutate may reject what it sees (a resourceVersion precondition); when
    what it saw came from the cache, the store re-reads before giving up."""
    backend = SQLiteStore(str(tmp_path / "s.db"))
    store = CachedStore(backend)
    try:
        await store.start([P])
        await store.create(P + "ns/a", b"1")
        await store.get(P + "ns/a")
        seen = []

        async def mutate(kv):
            seen.append(kv.value)
            if kv.value != b"2":
                raise ValueError("precondition failed on a stale read")
            return b"3"

        # a write the cache has not applied yet: the feeder runs on the next loop turns
        backend_rev = await backend.update(P + "ns/a", b"2")
        rev, value = await store.guaranteed_update(P + "ns/a", mutate)
        assert value == b"3" and rev > backend_rev
        assert seen[-1] == b"2"
    finally:
        await store.close()
