"""The periodic compactors: SQLite's, and etcd's compare-and-swap shared by
several API servers. Intervals are tiny; tests poll, never time."""
from __future__ import annotations

import asyncio
import shutil

import pytest

from apiserver.storage.interface import CompactedError
from apiserver.storage.sqlite import SQLiteStore

P = "/registry/pods/"


async def poll(cond, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await cond():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_sqlite_compactor_keeps_a_window(tmp_path):
    store = SQLiteStore(str(tmp_path / "s.db"))
    try:
        first = await store.create(P + "ns/a", b"0")
        for i in range(1, 10):
            await store.update(P + "ns/a", str(i).encode())
        store.start_compactor(interval_s=0.02, keep_window=3)

        async def compacted():
            return await store.compacted_revision() > first

        await poll(compacted)
        horizon = await store.compacted_revision()
        assert horizon <= await store.current_revision() - 3
        with pytest.raises(CompactedError):
            await store.list(P, revision=first)
        assert (await store.get(P + "ns/a")).value == b"9"
    finally:
        await store.close()


@pytest.mark.etcd
@pytest.mark.skipif(shutil.which("etcd") is None, reason="etcd not installed")
async def test_etcd_servers_share_one_compaction(etcd_endpoint):
    from apiserver.storage.etcd import EtcdStore

    a = EtcdStore([etcd_endpoint], prefix="/compactA", compaction_interval=0.05)
    b = EtcdStore([etcd_endpoint], prefix="/compactA", compaction_interval=0.05)
    try:
        first = await a.create(P + "ns/a", b"0")
        await b.update(P + "ns/a", b"1")

        async def compacted():
            await a.update(P + "ns/a", b"x")   # keep revisions moving
            return await b.compacted_revision() > first and await a.compacted_revision() > first

        await poll(compacted)
        with pytest.raises(CompactedError):
            await a.list(P, revision=first)
        assert (await b.get(P + "ns/a")).value == b"x"
    finally:
        await a.close()
        await b.close()


async def test_sqlite_compaction_deletes_in_slices_between_writes(tmp_path, monkeypatch):
    """A compaction deletes what it frees a few rows per write batch; the result is the
    one a single DELETE gave: each key's newest row at or below the horizon, every row
    above it, no tombstone at or below it."""
    import sqlite3

    from apiserver.storage import sqlite as sqlite_store
    monkeypatch.setattr(sqlite_store, "_SWEEP_ROWS", 7)
    store = SQLiteStore(str(tmp_path / "s.db"))
    try:
        for k in range(5):
            await store.create(f"{P}ns/k{k}", b"0")
        for i in range(1, 20):
            for k in range(5):
                await store.update(f"{P}ns/k{k}", str(i).encode())
        await store.delete(P + "ns/k4")
        horizon = await store.current_revision()
        await store.update(P + "ns/k0", b"after")
        writes = [asyncio.ensure_future(store.update(P + "ns/k1", str(100 + i).encode())) for i in range(10)]
        await store.compact(horizon)
        await asyncio.gather(*writes)
        assert await store.compacted_revision() == horizon
        with sqlite3.connect(str(tmp_path / "s.db")) as db:
            rows = db.execute("SELECT id, name, deleted FROM log ORDER BY id").fetchall()
        below = [(name, deleted) for rid, name, deleted in rows if rid <= horizon]
        assert sorted(below) == [(f"{P}ns/k{k}", 0) for k in range(4)]   # k4's tombstone went too
        assert len([r for r in rows if r[0] > horizon]) == 11
        assert (await store.get(P + "ns/k0")).value == b"after"
        assert (await store.get(P + "ns/k1")).value == b"109"
        assert await store.get(P + "ns/k4") is None
        with pytest.raises(CompactedError):
            await store.list(P, revision=horizon - 1)
    finally:
        await store.close()
