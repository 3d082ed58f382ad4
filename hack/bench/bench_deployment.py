"""A Deployment of 1,000 replicas over 100 simulated nodes: time until all are
available, then time to roll them all to a new image, with the CPU seconds the
API server and the controller manager spent in each phase.

Starts a private API server and `pocketkube controllers` (scheduler, replicaset
and deployment controllers, no leader election) as separate processes. This
process plays the 100 node agents: it writes the Nodes and their Leases, reports
bound pods Running and Ready, and confirms graceful deletions (its CPU is the
third share of the 2 cores and is printed too).

    python hack/bench/bench_deployment.py [--nodes 100] [--replicas 1000]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "integration"))

from nodeagent.simulated import SimulatedNodes  # noqa: E402
from kubeclient import ApiClient  # noqa: E402
from kubeclient.resources import DEPLOYMENTS, NAMESPACES  # noqa: E402
from tests.harness import ServerProcess, running_server  # noqa: E402
from tests.integration.controllers_support import ControllersProcess  # noqa: E402
from workloads_support import PodRunner  # noqa: E402


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def deployment(replicas: int, image: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bench"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "bench"}},
                     "template": {"metadata": {"labels": {"app": "bench"}}, "spec": {"containers": [{
                         "name": "c", "image": image, "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}}}]}}}}


async def _rolled(client, replicas: int, proc: ControllersProcess) -> None:
    while True:
        d = await client.get(DEPLOYMENTS, "bench", "bench")
        st = d.get("status") or {}
        if st.get("observedGeneration") == d["metadata"]["generation"] and \
                st.get("updatedReplicas") == st.get("replicas") == st.get("availableReplicas") == replicas:
            return
        if proc.proc.poll() is not None:
            raise SystemExit(f"controllers exited:\n{proc.log()}")
        await asyncio.sleep(0.25)


async def bench(srv: ServerProcess, log_dir: Path, n_nodes: int, replicas: int) -> None:
    async with ApiClient.from_kubeconfig(str(srv.kubeconfig)) as client:
        sim = SimulatedNodes(client, renew_interval=10)
        sim.start()
        sem = asyncio.Semaphore(32)

        async def limited(coro):
            async with sem:
                return await coro
        await asyncio.gather(*(limited(sim.add(f"bench-node-{i:03d}", cpu="32", memory="64Gi"))
                               for i in range(n_nodes)))
        await client.create(NAMESPACES, {"metadata": {"name": "bench"}})
        runner = PodRunner(client, sim)
        runner.start()
        proc = ControllersProcess(srv.kubeconfig, log_dir, "--controllers=scheduler,replicaset,deployment",
                                  "--leader-elect=false", name="bench-controllers")
        try:
            await asyncio.sleep(2)  # controller start-up and informer sync are not what is measured
            phases = []
            for label, body in (("create", None), ("roll to a new image", "busybox:2")):
                api0, ctl0, own0, t0 = _cpu_seconds(srv.proc.pid), _cpu_seconds(proc.proc.pid), _own_cpu(), time.monotonic()
                if body is None:
                    await client.create(DEPLOYMENTS, deployment(replicas, "busybox:1"), "bench")
                else:
                    await client.patch(DEPLOYMENTS, "bench", {"spec": {"template": {"spec": {"containers": [
                        {"name": "c", "image": body}]}}}}, "bench")
                await _rolled(client, replicas, proc)
                phases.append((label, time.monotonic() - t0, _cpu_seconds(srv.proc.pid) - api0,
                               _cpu_seconds(proc.proc.pid) - ctl0, _own_cpu() - own0))
        finally:
            proc.stop()
            await runner.stop()
            await sim.stop()
        print(f"Deployment of {replicas} replicas over {n_nodes} simulated nodes (2 shared cores)")
        for label, wall, api, ctl, own in phases:
            print(f"  {label:<20} all available after {wall:6.1f}s   CPU: API server {api:5.1f}s, "
                  f"controllers {ctl:5.1f}s, simulated node agents {own:5.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--replicas", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d, running_server(Path(d) / "server") as srv:
        asyncio.run(bench(srv, Path(d), args.nodes, args.replicas))


if __name__ == "__main__":
    main()
