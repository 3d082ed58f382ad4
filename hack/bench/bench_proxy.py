#!/usr/bin/env python
"""Proxy and cluster DNS benchmark: prints numbers, asserts nothing.

  python hack/bench/bench_proxy.py [--services 1000,10000] [--dns-seconds 3]

Proxy (needs root and nft): N Services with 2 endpoints each are rendered and
loaded with `nft -f` into a throwaway table (removed at the end; no route, no
traffic), then one Service's endpoints change and the partial sync (only that
service port rendered again, only its chain and map elements in the
transaction, as the proxier does) is applied. Times are wall clock,
with nft's own CPU time (user + kernel) beside them.

DNS: the cluster DNS server (clusterdns.server) in a child process on loopback,
answering from 10,000 Services; a client keeps 32 queries in flight over UDP for
a few seconds (queries/s), then sends 2,000 one at a time (latency p50/p99).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dnslib import DNSRecord  # noqa: E402

from proxy.model import Endpoint, ServicePort, Snapshot  # noqa: E402
from proxy.programmed import Programmed  # noqa: E402
from proxy.rules import Config, transaction  # noqa: E402


def _ip(base: int, i: int) -> str:
    n = base + i
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def snapshot(n: int, generation: int = 0) -> Snapshot:
    svc_base, pod_base = (10 << 24) | (240 << 16), (10 << 24) | (200 << 16)
    ports = []
    for i in range(n):
        eps = tuple(Endpoint(_ip(pod_base, 2 * i + k + (generation if i == 0 else 0) * 100_000), 8080, "bench")
                    for k in range(2))
        ports.append(ServicePort("bench", f"svc-{i}", "http", "tcp", _ip(svc_base, i), 80,
                                 cluster_endpoints=eps, external_endpoints=eps))
    return Snapshot(ports)


def nft(script: str) -> str:
    """Wall time and the CPU time of nft (user + kernel): on a shared machine the wall
    time is mostly waiting for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return f"{wall:.3f}s ({cpu:.3f}s cpu)"


def bench_proxy(counts: list[int]) -> None:
    if os.geteuid() != 0:
        print("proxy: skipped (needs root for nft)")
        return
    cfg = Config(table=f"pocketkube-bench-{os.getpid()}", service_cidr="10.240.0.0/12")
    print(f"{'services':>9} {'render':>8} {'text':>8} {'first nft -f':>24} {'1 change: render+diff':>22} "
          f"{'nft -f':>24}")
    try:
        for n in counts:
            subprocess.run(["nft", "delete", "table", "ip", cfg.table], capture_output=True)
            programmed = Programmed(cfg)
            ports = snapshot(n).ports
            t0 = time.perf_counter()
            programmed.update(ports)
            want = programmed.desired()
            t1 = time.perf_counter()
            script = transaction(None, want, cfg)
            t2 = time.perf_counter()
            first = nft(script)
            # one Service's endpoints change: as the proxier does, only its ServicePort is new
            changed = list(ports)
            changed[0] = snapshot(1, generation=1).ports[0]
            t3 = time.perf_counter()
            delta = transaction(*programmed.update(changed), cfg)
            t4 = time.perf_counter()
            partial = nft(delta)
            print(f"{n:>9} {t1 - t0:>7.3f}s {t2 - t1:>7.3f}s {first:>24} {t4 - t3:>21.3f}s {partial:>24}"
                  f"   ({len(script) // 1024} KiB, then {len(delta.splitlines())} lines)")
    finally:
        subprocess.run(["nft", "delete", "table", "ip", cfg.table], capture_output=True)


def _dns_server(port_out, services: int) -> None:
    from clusterdns.records import Records
    from clusterdns.server import DnsServer, Resolver

    svcs = [{"metadata": {"name": f"svc-{i}", "namespace": "bench"},
             "spec": {"clusterIP": _ip((10 << 24) | (240 << 16), i), "ports": [{"name": "http", "port": 80}]}}
            for i in range(services)]
    records = Records("cluster.local").build(svcs, [], [])

    async def main():
        server = DnsServer(Resolver(lambda: records), "127.0.0.1", 0, upstreams=[])
        port_out.put(await server.start())
        await asyncio.Event().wait()

    asyncio.run(main())


def bench_dns(seconds: float, services: int = 10_000, inflight: int = 32) -> None:
    q = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_dns_server, args=(q, services), daemon=True)
    proc.start()
    try:
        port = q.get(timeout=60)
        names = [f"svc-{random.randrange(services)}.bench.svc.cluster.local" for _ in range(1000)]
        queries = [DNSRecord.question(n, "A").pack() for n in names]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(("127.0.0.1", port))
        sock.settimeout(1.0)
        for qry in queries:            # warm the server's answer cache, as steady state has it
            sock.send(qry)
            sock.recv(512)
        sent = got = 0
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            while sent - got < inflight:
                sock.send(queries[sent % len(queries)])
                sent += 1
            try:
                sock.recv(512)
                got += 1
            except socket.timeout:
                break
        elapsed = time.perf_counter() - start
        for _ in range(sent - got):     # the replies still in flight, before timing one at a time
            try:
                sock.recv(512)
            except socket.timeout:
                break
        lat = []
        for i in range(2000):
            t = time.perf_counter()
            sock.send(queries[i % len(queries)])
            sock.recv(512)
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        print(f"dns: {got / elapsed:,.0f} queries/s ({inflight} in flight, {services:,} services, server on one "
              f"process); one at a time p50 {statistics.median(lat):.3f} ms, p99 {lat[int(len(lat) * 0.99)]:.3f} ms")
    finally:
        proc.terminate()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", default="1000,10000")
    ap.add_argument("--dns-seconds", type=float, default=3.0)
    ns = ap.parse_args()
    bench_proxy([int(x) for x in ns.services.split(",")])
    bench_dns(ns.dns_seconds)


if __name__ == "__main__":
    main()
