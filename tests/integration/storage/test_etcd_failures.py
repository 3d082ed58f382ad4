"""EtcdStore when etcd is away: start-up before etcd, and a 3-member cluster
losing members under a write load (acknowledged writes must all survive, and a
watch must see each of them once, in order)."""
from __future__ import annotations

import asyncio
import shutil

import pytest

from apiserver.storage.cache import CachedStore
from apiserver.storage.interface import StoreError, UnavailableError

pytestmark = [
    pytest.mark.etcd,
    pytest.mark.skipif(shutil.which("etcd") is None, reason="etcd not installed (hack/setup-etcd.sh)"),
]

P = "/registry/pods/"


async def wait_until(cond, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await cond():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_starts_before_etcd_and_recovers():
    from apiserver.storage.etcd import EtcdStore
    from tests.etcd_cluster import EtcdCluster, free_port

    port = free_port()
    store = CachedStore(EtcdStore([f"http://127.0.0.1:{port}"], compaction_interval=0))
    try:
        assert not await store.healthy()
        with pytest.raises(UnavailableError):
            await store.get(P + "ns/a")
        with pytest.raises(UnavailableError):
            await store.create(P + "ns/a", b"1")
        with EtcdCluster(1, client_ports=[port]):
            await wait_until(store.healthy)
            rev = await store.create(P + "ns/a", b"1")
            assert (await store.get(P + "ns/a")).mod_revision == rev
            assert [kv.key for kv in (await store.list(P)).items] == [P + "ns/a"]
    finally:
        await store.close()


@pytest.mark.slow
@pytest.mark.parametrize("cached", [False, True], ids=["etcd", "cached-etcd"])
async def test_member_loss_under_write_load_loses_no_acknowledged_write(cached):
    from apiserver.storage.etcd import EtcdStore
    from tests.etcd_cluster import EtcdCluster

    cluster = EtcdCluster(3)
    await asyncio.to_thread(cluster.start)
    store = EtcdStore(cluster.client_urls, compaction_interval=0, timeout=3.0)
    if cached:
        store = CachedStore(store)
        await store.start([P])
    acked: dict[str, int] = {}
    stop = asyncio.Event()

    async def writer(n):
        i = 0
        while not stop.is_set():
            key = f"{P}w{n}/k{i}"
            try:
                acked[key] = await store.create(key, b"v")
                i += 1
            except StoreError:
                await asyncio.sleep(0.02)   # not acknowledged: may or may not be stored

    try:
        start = await store.current_revision()
        watch = store.watch(P, start)
        await watch.start()
        seen: list[int] = []
        target: list[int] = []   # set once the writers are done

        async def drain():
            # read while writing: a watcher that never reads is closed once its
            # buffer is full (10,000 events), which a fast etcd reaches here
            async for ev in watch:
                seen.append(ev.revision)
                if target and ev.revision >= target[0]:
                    return

        reader = asyncio.create_task(drain())
        writers = [asyncio.create_task(writer(n)) for n in range(8)]
        for victim in (0, 1, 0):
            await asyncio.sleep(0.5)
            await asyncio.to_thread(cluster.kill, victim)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(cluster.restart, victim)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*writers)
        assert len(acked) > 100

        stored = {kv.key: kv.mod_revision for kv in (await store.list(P)).items}
        assert all(stored.get(k) == rev for k, rev in acked.items())

        target.append(max(stored.values()))
        if seen and seen[-1] >= target[0]:
            reader.cancel()
        else:
            await asyncio.wait_for(reader, 30)
        assert seen == sorted(set(seen))                  # in order, exactly once
        assert set(acked.values()) <= set(seen)            # every acknowledged write
        await watch.aclose()
    finally:
        stop.set()
        if "reader" in locals():
            reader.cancel()
        await store.close()
        await asyncio.to_thread(cluster.stop)


async def test_tls_with_client_certificates():
    from apiserver.storage.etcd import EtcdStore
    from tests.etcd_cluster import EtcdCluster

    cluster = await asyncio.to_thread(EtcdCluster(1, tls=True).start)
    try:
        store = EtcdStore(cluster.client_urls, ca_file=cluster.ca_file, cert_file=cluster.client_cert,
                          key_file=cluster.client_key, compaction_interval=0)
        anonymous = EtcdStore(cluster.client_urls, ca_file=cluster.ca_file, compaction_interval=0)
        try:
            rev = await store.create(P + "ns/a", b"1")
            assert (await store.get(P + "ns/a")).mod_revision == rev
            assert await store.healthy()
            assert not await anonymous.healthy()   # --client-cert-auth
        finally:
            await store.close()
            await anonymous.close()
    finally:
        await asyncio.to_thread(cluster.stop)
