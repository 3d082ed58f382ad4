"""Scheduling throughput: pods bound per second.

Starts a private API server, writes 100 simulated nodes and 1,000 pending pods,
then starts the scheduler (`pocketkube controllers --controllers=scheduler`, a
separate process as in a real cluster) and times how long it takes until every
pod is bound. Compared with 20 pods/s, the rate the Kubernetes density tests
long required of the scheduler.

    python hack/bench/bench_scheduler.py [--nodes 100] [--pods 1000]
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

from nodeagent.simulated import SimulatedNodes  # noqa: E402
from kubeclient import ApiClient  # noqa: E402
from kubeclient.resources import NAMESPACES, PODS  # noqa: E402
from tests.harness import running_server  # noqa: E402
from tests.integration.controllers_support import ControllersProcess  # noqa: E402

DENSITY_RATE = 20.0


async def bench(kubeconfig: Path, log_dir: Path, n_nodes: int, n_pods: int) -> None:
    async with ApiClient.from_kubeconfig(str(kubeconfig)) as client:
        sim = SimulatedNodes(client)
        sem = asyncio.Semaphore(32)

        async def limited(coro):
            async with sem:
                return await coro
        t0 = time.monotonic()
        await asyncio.gather(*(limited(sim.add(f"bench-node-{i:03d}", cpu="32", memory="64Gi"))
                               for i in range(n_nodes)))
        await client.create(NAMESPACES, {"metadata": {"name": "bench"}})
        pod = {"metadata": {"generateName": "p-"}, "spec": {"containers": [{
            "name": "c", "image": "busybox", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}
        await asyncio.gather(*(limited(client.create(PODS, pod, "bench")) for _ in range(n_pods)))
        print(f"setup: {n_nodes} nodes + {n_pods} pending pods in {time.monotonic() - t0:.1f}s")

        start = time.monotonic()
        proc = ControllersProcess(kubeconfig, log_dir, "--controllers=scheduler", "--leader-elect=false",
                                  name="bench-scheduler")
        try:
            first = None
            while True:
                items = (await client.list(PODS, "bench")).get("items") or []
                bound = sum(1 for p in items if p["spec"].get("nodeName"))
                if bound and first is None:
                    first = time.monotonic()
                if bound == n_pods:
                    break
                if proc.proc.poll() is not None:
                    raise SystemExit(f"scheduler exited:\n{proc.log()}")
                await asyncio.sleep(0.2)
            end = time.monotonic()
            cpu = _cpu_seconds(proc.proc.pid)
        finally:
            proc.stop()
        per_node = {}
        for p in items:
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
        rate = n_pods / (end - first)
        print(f"all {n_pods} pods bound {end - start:.1f}s after the scheduler started "
              f"(first bind after {first - start:.1f}s: process start + informer sync)")
        print(f"throughput: {rate:.0f} pods/s from first to last bind "
              f"({rate / DENSITY_RATE:.1f}x the {DENSITY_RATE:.0f} pods/s density-test rate); "
              f"{n_pods / (end - start):.0f} pods/s including start-up")
        print(f"scheduler process CPU: {cpu:.1f}s for {end - start:.1f}s of wall time "
              f"(the rest is the API server's share of the 2 cores)")
        print(f"spread: {min(per_node.values())}..{max(per_node.values())} pods per node over {len(per_node)} nodes")


def _cpu_seconds(pid: int) -> float:
    import os
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--pods", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d, running_server(Path(d) / "server") as srv:
        asyncio.run(bench(srv.kubeconfig, Path(d), args.nodes, args.pods))


if __name__ == "__main__":
    main()
