"""Several SQLiteStores on one file (as the API server's workers open it, shared=True):
each follows what the others write, in revision order, with nothing lost."""
from __future__ import annotations

import asyncio

from apiserver.storage.cache import CachedStore
from apiserver.storage.interface import KeyExistsError
from apiserver.storage.sqlite import SQLiteStore


async def _collect(stream, n: int) -> list:
    got = []
    async for ev in stream:
        got.append(ev)
        if len(got) == n:
            break
    await stream.aclose()
    return got


async def test_each_store_sees_every_write_in_revision_order(tmp_path):
    path = str(tmp_path / "state.db")
    a, b = SQLiteStore(path, shared=True), SQLiteStore(path, shared=True)
    cached = CachedStore(SQLiteStore(path, shared=True))
    try:
        start = await a.current_revision()
        watches = [s.watch("/registry/pods/", start) for s in (a, b, cached)]
        for w in watches:
            await w.start()
        readers = [asyncio.create_task(_collect(w, 300)) for w in watches]
        writes = [s.create(f"/registry/pods/ns/{name}{i}", b"v")
                  for i in range(100) for s, name in ((a, "a"), (b, "b"), (cached, "c"))]
        revisions = await asyncio.gather(*writes)
        for got in await asyncio.wait_for(asyncio.gather(*readers), 30):
            assert [ev.kv.mod_revision for ev in got] == sorted(revisions)
        # a read through one store right after a write through another sees it (consistent read)
        rev = await a.update("/registry/pods/ns/b0", b"new")
        kv = await cached.get("/registry/pods/ns/b0")
        assert (kv.value, kv.mod_revision) == (b"new", rev)
        assert len((await cached.list("/registry/pods/ns/")).items) == 300
    finally:
        for s in (a, b, cached):
            await s.close()


async def test_concurrent_creates_of_one_key_through_two_stores_succeed_once(tmp_path):
    path = str(tmp_path / "state.db")
    a, b = SQLiteStore(path, shared=True), SQLiteStore(path, shared=True)
    try:
        for i in range(20):
            results = await asyncio.gather(a.create(f"/registry/services/ns/s{i}", b"a"),
                                           b.create(f"/registry/services/ns/s{i}", b"b"), return_exceptions=True)
            assert sum(isinstance(r, int) for r in results) == 1
            assert sum(isinstance(r, KeyExistsError) for r in results) == 1
    finally:
        await a.close()
        await b.close()
