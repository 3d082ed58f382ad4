#!/usr/bin/env python
"""From an EndpointSlice change to the rule being live: p50/p99 (needs root and nft).

A real API server (its own process and data dir, service range 10.241.0.0/16) holds
N selectorless Services with an EndpointSlice of 2 endpoints each; the proxy runs in
this process with a throwaway table. For each N (the list grows the same cluster):
a fresh proxier's first sync (start -> table loaded), then rounds that each move one
Service's endpoint to a new address through the API and wait until the proxy has
applied a transaction DNATing to it (`nft -f` returned). Table and route are removed
at the end; nothing is sent to any of these addresses.

  python hack/bench/bench_proxy_live.py [--services 1000,10000] [--changes 50]
  python hack/bench/bench_proxy_live.py --services 500 --inject 9500   # 10,000 in minutes
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from kubeclient import ApiClient  # noqa: E402
from kubeclient.resources import ENDPOINTSLICES, SERVICES  # noqa: E402
from proxy.proxier import Proxier, cleanup  # noqa: E402
from proxy.rules import Config  # noqa: E402
from tests.harness import ServerProcess  # noqa: E402

CIDR = "10.241.0.0/16"
NS = "default"


def eps_slice(i: int, ips: list[str]) -> dict:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"svc-{i}-1", "labels": {"kubernetes.io/service-name": f"svc-{i}"}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]}


async def populate(client: ApiClient, start: int, n: int) -> None:
    # Services one at a time: ClusterIP allocation serializes on one range object anyway
    # (16 in flight were three times slower here: conflicts on that object).
    for i in range(start, n):
        await client.create(SERVICES, {"metadata": {"name": f"svc-{i}"},
                                       "spec": {"ports": [{"name": "http", "port": 80}]}}, NS)
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with sem:
            await client.create(ENDPOINTSLICES, eps_slice(i, [f"10.200.{i // 250}.{i % 250}",
                                                              f"10.201.{i // 250}.{i % 250}"]), NS)
    await asyncio.gather(*(one(i) for i in range(start, n)))


def applied_dnat(proxier: Proxier, service: str, ip: str) -> bool:
    """The table, as last applied, DNATs the service to ip (its port's own rendering:
    scanning every rule at each poll would compete with the proxier for this core)."""
    want = f"dnat to {ip}:8080"
    _, part = proxier.programmed.parts.get(f"{NS}/{service}/tcp/http", (None, None))
    return proxier.table_ok and part is not None and any(want in r for rules in part.chains.values() for r in rules)


def inject(proxier: Proxier, start: int, total: int) -> None:
    """Services start..total-1 and their slices straight into the proxier's informer caches,
    as if listed: their handlers run as for a watch event. (Creating 10,000 Services through
    this API server takes over 20 minutes here: the ClusterIP allocator rewrites its whole
    range state on every create.) Addresses in 10.241.128.0/17, apart from the real ones."""
    for i in range(start, total):
        j = i - start
        proxier.services._apply("ADDED", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{i}", "namespace": NS},
            "spec": {"type": "ClusterIP", "clusterIP": f"10.241.{128 + j // 250}.{j % 250 + 1}",
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}})
        body = eps_slice(i, [f"10.200.{i // 250}.{i % 250}", f"10.201.{i // 250}.{i % 250}"])
        body["metadata"]["namespace"] = NS
        proxier.slices._apply("ADDED", body)


async def measure(client: ApiClient, cfg: Config, n: int, changes: int, round_: int, injected: int = 0) -> None:
    proxier = Proxier(client, "bench", cfg, min_sync_period=0.1)
    start = time.perf_counter()
    task = asyncio.ensure_future(proxier.run())
    try:
        await proxier.synced.wait()
        if injected:
            await proxier.slices.wait_synced()
            t = time.perf_counter()
            inject(proxier, n, n + injected)
            count = proxier.sync_count
            while proxier.dirty.is_set() or proxier.sync_count == count:
                await asyncio.sleep(0.05)
            print(f"{injected} more services injected and loaded in {time.perf_counter() - t:.2f}s "
                  f"(that sync {proxier.last_sync_seconds:.2f}s)", flush=True)
        first = time.perf_counter() - start
        while proxier.dirty.is_set():
            await asyncio.sleep(0.1)
        lat = []
        for k in range(changes):
            i = (k * 7919) % n
            new_ip = f"10.{202 + round_}.{k // 250}.{k % 250}"
            body = await client.get(ENDPOINTSLICES, f"svc-{i}-1", NS)
            body["endpoints"][0]["addresses"] = [new_ip]
            t0 = time.perf_counter()
            await client.update(ENDPOINTSLICES, body, NS)
            seen = proxier.sync_count
            while True:
                if proxier.sync_count != seen:
                    seen = proxier.sync_count
                    if applied_dnat(proxier, f"svc-{i}", new_ip):
                        break
                await asyncio.sleep(0.002)
            lat.append(time.perf_counter() - t0)
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(f"{n + injected:>6} services ({n} through the API): up to date after {first:.2f}s (informers listing included; the last sync "
              f"{proxier.last_sync_seconds:.3f}s); EndpointSlice change -> rule live ({changes} changes): "
              f"p50 {statistics.median(lat) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms "
              f"(min-sync-period 0.1 s)", flush=True)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await cleanup(cfg)


async def main(args) -> None:
    if os.geteuid() != 0:
        print("needs root (nft)")
        return
    srv = ServerProcess(Path(tempfile.mkdtemp(prefix="bench-proxy-live-")) / "apiserver",
                        extra_args=["--service-cluster-ip-range", CIDR])
    srv.start()
    srv.wait_ready()
    cfg = Config(table=f"pocketkube-bench-live-{os.getpid()}", service_cidr=CIDR)
    client = ApiClient.from_kubeconfig(str(srv.kubeconfig))
    try:
        have = 0
        for round_, n in enumerate(int(x) for x in args.services.split(",")):
            t = time.perf_counter()
            await populate(client, have, n)
            print(f"{n - have} services + slices created in {time.perf_counter() - t:.1f}s", flush=True)
            have = n
            await measure(client, cfg, n, args.changes, round_, args.inject if round_ == 0 else 0)
    finally:
        await cleanup(cfg)
        await client.close()
        srv.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", default="1000,10000")
    ap.add_argument("--changes", type=int, default=50)
    ap.add_argument("--inject", type=int, default=0,
                    help="this many more Services put straight into the proxier's caches (first size only)")
    asyncio.run(main(ap.parse_args()))
