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
