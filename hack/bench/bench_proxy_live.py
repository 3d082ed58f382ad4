#!/usr/bin/env python
"""From an EndpointSlice change to the rule being live: p50/p99 (needs root and nft).

A real API server (its own process and data dir, service range 10.241.0.0/16) holds
N selectorless Services with an EndpointSlice of 2 endpoints each; the proxy runs in
this process with a throwaway table. Each round moves one Service's endpoint to a
new address through the API and waits until the proxy has applied a transaction
DNATing to it (`nft -f` returned). Table and route are removed at the end; nothing
is sent to any of these addresses.

  python hack/bench/bench_proxy_live.py [--services 1000] [--changes 50]
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


async def populate(client: ApiClient, n: int) -> None:
    # Services one at a time: ClusterIP allocation serializes on one range object anyway.
    for i in range(n):
        await client.create(SERVICES, {"metadata": {"name": f"svc-{i}"},
                                       "spec": {"ports": [{"name": "http", "port": 80}]}}, NS)
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with sem:
            await client.create(ENDPOINTSLICES, eps_slice(i, [f"10.200.{i // 250}.{i % 250}",
                                                              f"10.201.{i // 250}.{i % 250}"]), NS)
    await asyncio.gather(*(one(i) for i in range(n)))


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
    proxier = Proxier(client, "bench", cfg, min_sync_period=0.1)
    task = None
    try:
        t = time.perf_counter()
        await populate(client, args.services)
        print(f"{args.services} services + slices created in {time.perf_counter() - t:.1f}s")
        task = asyncio.ensure_future(proxier.run())
        await proxier.synced.wait()
        while proxier.dirty.is_set():
            await asyncio.sleep(0.1)
        print(f"first sync done ({proxier.last_sync_seconds:.2f}s for the last one)")
        lat = []
        for k in range(args.changes):
            i = k % args.services
            new_ip = f"10.202.{k // 250}.{k % 250}"
            body = await client.get(ENDPOINTSLICES, f"svc-{i}-1", NS)
            body["endpoints"][0]["addresses"] = [new_ip]
            await client.update(ENDPOINTSLICES, body, NS)
            start = time.perf_counter()
            want = f"dnat to {new_ip}:8080"
            while not (proxier.applied and any(want in r for rules in proxier.applied.chains.values()
                                               for r in rules)):
                await asyncio.sleep(0.002)
            lat.append(time.perf_counter() - start)
        lat.sort()
        print(f"EndpointSlice change -> rule live ({args.services} services, {args.changes} changes): "
              f"p50 {statistics.median(lat) * 1000:.0f} ms, p99 {lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000:.0f} ms"
              f" (min-sync-period 0.1 s)")
    finally:
        if task:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await cleanup(cfg)
        await client.close()
        srv.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--changes", type=int, default=50)
    asyncio.run(main(ap.parse_args()))
