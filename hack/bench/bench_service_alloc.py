"""Service creates as the number of Services grows: is a create's cost flat?

Starts a private API server and creates --services ClusterIP Services (a few
at a time, through the API as a client would), printing the mean time per
create of each block of 1,000. Each cluster IP is one IPAddress object, so the
last block should cost what the first did; then deletes them all and checks
that every address went back (no IPAddress left but the kubernetes Service's).

    python hack/bench/bench_service_alloc.py [--services 10000] [--concurrency 8]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from kubeclient import ApiClient  # noqa: E402
from kubeclient.resources import NAMESPACES, SERVICES, Resource  # noqa: E402
from tests.harness import running_server  # noqa: E402

IPADDRESSES = Resource("networking.k8s.io", "v1", "ipaddresses")
BLOCK = 1000


async def _in_blocks(n: int, concurrency: int, one) -> list[float]:
    """Run one(i) for i < n, `concurrency` at a time; seconds per call of each block."""
    sem = asyncio.Semaphore(concurrency)

    async def limited(i):
        async with sem:
            await one(i)
    per_call = []
    for lo in range(0, n, BLOCK):
        hi = min(n, lo + BLOCK)
        t0 = time.perf_counter()
        await asyncio.gather(*(limited(i) for i in range(lo, hi)))
        per_call.append((time.perf_counter() - t0) / (hi - lo))
    return per_call


async def bench(kubeconfig: Path, n: int, concurrency: int) -> None:
    async with ApiClient.from_kubeconfig(str(kubeconfig)) as client:
        await client.create(NAMESPACES, {"metadata": {"name": "bench"}})

        async def create(i):
            await client.create(SERVICES, {"metadata": {"name": f"s{i:05d}"},
                                           "spec": {"ports": [{"port": 80}], "selector": {"app": f"a{i}"}}}, "bench")
        per_create = await _in_blocks(n, concurrency, create)
        for b, t in enumerate(per_create):
            print(f"creates {b * BLOCK:>6}-{min(n, (b + 1) * BLOCK) - 1:>6}: {t * 1000:6.2f} ms each "
                  f"(wall, {concurrency} at a time)")
        ips = (await client.list(IPADDRESSES)).get("items") or []
        print(f"IPAddresses after the creates: {len(ips)} ({n} Services + the kubernetes one)")
        print(f"last block / first block: {per_create[-1] / per_create[0]:.2f}")

        async def delete(i):
            await client.delete(SERVICES, f"s{i:05d}", "bench")
        per_delete = await _in_blocks(n, concurrency, delete)
        print(f"deletes: {sum(per_delete) / len(per_delete) * 1000:.2f} ms each on average")
        left = (await client.list(IPADDRESSES)).get("items") or []
        print(f"IPAddresses after the deletes: {len(left)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d, running_server(Path(d) / "server") as srv:
        asyncio.run(bench(srv.kubeconfig, args.services, args.concurrency))


if __name__ == "__main__":
    main()
