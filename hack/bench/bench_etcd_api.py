#!/usr/bin/env python
"""The API server on etcd beside the API server on SQLite, in one run: prints numbers, asserts nothing.

  python hack/bench/bench_etcd_api.py [--pods 3000] [--concurrency 32] [--duration 5] [--watchers 100]

Both servers are real `pocketkube apiserver` processes over TLS on this machine;
etcd is a throwaway single member (tests/etcd_cluster.py) on /dev/shm.
Measures: pod creates/s (32 in flight), GET of one pod (req/s; wrk if installed), watch delivery
latency p50/p99 (write -> each watcher), and raw etcd puts/s through aetcd
(same 32 in flight, pod-sized values) so the server's own cost on etcd shows.
Clients, servers and etcd share the machine's cores.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_api  # noqa: E402  (the SQLite benchmark's clients: creates, GET rate, watch latency)

from tests.etcd_cluster import EtcdCluster  # noqa: E402
from tests.harness import ServerProcess  # noqa: E402


async def raw_puts(endpoint: str, n: int, in_flight: int, value: bytes) -> float:
    import aetcd
    from urllib.parse import urlparse

    u = urlparse(endpoint)
    sem = asyncio.Semaphore(in_flight)
    async with aetcd.Client(host=u.hostname, port=u.port) as c:
        async def one(i: int) -> None:
            async with sem:
                await c.put(f"/benchraw/k{i}".encode(), value)
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - start)


def start(base: Path, name: str, args: list[str]) -> bench_api.Target:
    srv = ServerProcess(base / name, extra_args=["--endpoint-reconciler-type", "none", *args]).start()
    srv.wait_ready()
    return bench_api.Target(name, srv.url, srv.token, str(srv.ca_file), srv)


def measure(t: bench_api.Target, a) -> dict[str, float]:
    bench_api.ensure_namespace(t, "bench")
    r = {"creates/s": asyncio.run(bench_api.create_pods(t, "bench", a.pods, a.concurrency))}
    # wrk when installed (the client is then not the bottleneck), else httpx, as bench_api.py
    r["GET/s"] = bench_api.get_rate(t, "/api/v1/namespaces/bench/pods/p0", a.duration, a.concurrency)
    bench_api.ensure_namespace(t, "watch")
    p50, p99, n = asyncio.run(bench_api.watch_latency(t, "watch", a.watchers, a.rounds))
    r["watch p50 ms"], r["watch p99 ms"] = p50 * 1000, p99 * 1000
    print(f"  {t.name}: " + ", ".join(f"{k} {v:,.1f}" for k, v in r.items()) + f" (watch n={n})", flush=True)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--watchers", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    if shutil.which("etcd") is None:
        raise SystemExit("etcd is not installed: run hack/setup-etcd.sh")

    base = Path(tempfile.mkdtemp(prefix="bench-etcd-api-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    cluster = EtcdCluster(1).start()
    targets: list[bench_api.Target] = []
    try:
        pod_bytes = len(bench_api.json.dumps(bench_api.pod("p0"))) * 4   # stored pods carry defaults + managedFields
        raw = asyncio.run(raw_puts(cluster.client_urls[0], a.pods, a.concurrency, b"x" * pod_bytes))
        print(f"  raw aetcd: {raw:,.0f} puts/s ({a.concurrency} in flight, {pod_bytes} B values)", flush=True)
        results = {}
        for name, args in (("sqlite", []), ("etcd", ["--etcd-servers", cluster.client_urls[0]])):
            t = start(base, name, args)
            targets.append(t)
            results[name] = measure(t, a)
            t.stop()
    finally:
        for t in targets:
            t.stop()
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)

    keys = list(results["sqlite"])
    print(f"\n{'':14}" + "".join(f"{k:>15}" for k in keys))
    for name, r in results.items():
        print(f"{name:14}" + "".join(f"{r[k]:>15,.1f}" for k in keys))
    print(f"{'etcd/sqlite':14}" + "".join(f"{results['etcd'][k] / results['sqlite'][k]:>15.2f}" for k in keys))
    print(f"raw aetcd puts/s {raw:,.0f}; API creates/s on etcd are {results['etcd']['creates/s'] / raw:.2f} of it")


if __name__ == "__main__":
    main()
