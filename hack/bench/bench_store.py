#!/usr/bin/env python3
"""Storage benchmark: prints numbers, asserts nothing.

    python hack/bench/bench_store.py                 # sqlite, cached(sqlite)
    python hack/bench/bench_store.py --etcd URL      # + etcd, cached(etcd), raw aetcd puts
    python hack/bench/bench_store.py --start-etcd    # start a throwaway etcd for it

Measures creates/s (64 in flight), gets/s (sequential), one list of 10,000
keys, and watch fan-out latency (write → delivery) to 1,000 watchers.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from apiserver.storage.cache import CachedStore  # noqa: E402
from apiserver.storage.sqlite import SQLiteStore  # noqa: E402

VALUE = b'{"kind":"Pod","apiVersion":"v1","metadata":{"name":"x"},"spec":{}}'.ljust(2048, b" ")


async def bounded(n: int, in_flight: int, fn) -> float:
    """Run fn(i) for i < n with at most in_flight concurrent; returns seconds."""
    sem = asyncio.Semaphore(in_flight)

    async def one(i):
        async with sem:
            await fn(i)

    t = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - t


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


async def bench(name: str, store, n_creates: int, watchers: int, rounds: int) -> None:
    run = f"/registry/bench{int(time.time() * 1000) % 100000}/"
    secs = await bounded(n_creates, 64, lambda i: store.create(f"{run}ns/k{i:06}", VALUE))
    print(f"{name:16} creates/s        {n_creates / secs:10,.0f}  ({n_creates} x 2 KiB, 64 in flight)")
    n_gets = min(n_creates, 10_000)
    t = time.perf_counter()
    for i in range(n_gets):
        await store.get(f"{run}ns/k{i:06}")
    print(f"{name:16} gets/s           {n_gets / (time.perf_counter() - t):10,.0f}  (sequential)")
    await store.list(run)   # warm (a watch cache loads here)
    t = time.perf_counter()
    res = await store.list(run, limit=10_000)
    print(f"{name:16} list 10,000      {(time.perf_counter() - t) * 1000:10.1f} ms ({len(res.items)} items)")

    # fan-out: every watcher records when each event reaches it
    wprefix = f"{run}watched/"
    start = await store.current_revision()
    streams = [store.watch(wprefix, start) for _ in range(watchers)]
    await asyncio.gather(*(s.start() for s in streams))
    sent: dict[str, float] = {}
    lat: list[float] = []
    got = asyncio.Event()
    counts = {"n": 0}

    async def consume(s):
        async for ev in s:
            if ev.type == "BOOKMARK":
                continue
            lat.append(time.perf_counter() - sent[ev.kv.key])
            counts["n"] += 1
            if counts["n"] % watchers == 0:
                got.set()

    tasks = [asyncio.create_task(consume(s)) for s in streams]
    for i in range(rounds):
        got.clear()
        key = f"{wprefix}k{i}"
        sent[key] = time.perf_counter()
        await store.create(key, VALUE)
        await asyncio.wait_for(got.wait(), 30)
    for s in streams:
        await s.aclose()
    for task in tasks:
        task.cancel()
    print(f"{name:16} fan-out to {watchers}: p50 {pct(lat, .5) * 1000:.1f} ms, p99 {pct(lat, .99) * 1000:.1f} ms"
          f" ({rounds} writes, {len(lat)} deliveries)")


async def raw_aetcd_puts(endpoint: str, n: int) -> None:
    import aetcd
    from urllib.parse import urlparse

    u = urlparse(endpoint)
    async with aetcd.Client(host=u.hostname, port=u.port) as c:
        secs = await bounded(n, 64, lambda i: c.put(f"/benchraw/k{i}".encode(), VALUE))
    print(f"{'raw aetcd':16} puts/s           {n / secs:10,.0f}  (64 in flight)")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--creates", type=int, default=20_000)
    ap.add_argument("--watchers", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--etcd", help="an etcd client URL")
    ap.add_argument("--start-etcd", action="store_true", help="start a throwaway etcd (tests/etcd_cluster.py)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as d:
        s = SQLiteStore(os.path.join(d, "a.db"))
        await bench("sqlite", s, args.creates, args.watchers, args.rounds)
        await s.close()
        s = CachedStore(SQLiteStore(os.path.join(d, "b.db")))
        await bench("cached(sqlite)", s, args.creates, args.watchers, args.rounds)
        await s.close()

    cluster = None
    endpoint = args.etcd
    if args.start_etcd and not endpoint:
        from tests.etcd_cluster import EtcdCluster

        cluster = EtcdCluster(1).start()
        endpoint = cluster.client_urls[0]
    if endpoint:
        from apiserver.storage.etcd import EtcdStore

        try:
            await raw_aetcd_puts(endpoint, args.creates)
            s = EtcdStore([endpoint], prefix="/benchA", compaction_interval=0)
            await bench("etcd", s, args.creates, min(args.watchers, 200), args.rounds)
            await s.close()
            s = CachedStore(EtcdStore([endpoint], prefix="/benchB", compaction_interval=0))
            await bench("cached(etcd)", s, args.creates, args.watchers, args.rounds)
            await s.close()
        finally:
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())
