"""Lease renewal at scale: can one `pocketkube nodeagent --simulate N` process keep
N nodes' Leases renewed every 10 s (with the kubelet's jitter)?

Starts a private API server and the simulating process, waits until every node
has its Lease, then watches kube-node-lease for --seconds and reports: renewals/s
achieved against the N/10 needed, the interval between two renewals of one node
(p50/p99/max: 10-10.4 s when it keeps up), the staleness of every Lease at the end
(now - renewTime: p99, max, how many past 15 s and past the 40 s lease duration,
after which the node lifecycle controller would call the node unreachable), and
the CPU of both processes.

    python hack/bench/bench_lease_renewal.py [--nodes 5000] [--seconds 60]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from kubeclient import ApiClient  # noqa: E402
from kubeclient.resources import LEASES  # noqa: E402
from tests.harness import ServerProcess  # noqa: E402
from tests.integration.controllers_support import ControllersProcess  # noqa: E402

NS = "kube-node-lease"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def renew_time(lease: dict) -> float:
    text = (lease.get("spec") or {}).get("renewTime") or ""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc).timestamp()


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def bench(kubeconfig: Path, n: int, seconds: float, sim: ControllersProcess, server_pid: int) -> None:
    last: dict[str, float] = {}
    intervals: list[float] = []
    renewals = 0
    measuring = False
    async with ApiClient.from_kubeconfig(str(kubeconfig)) as client:
        listed = await client.list(LEASES, NS)
        for lease in listed.get("items") or []:
            last[lease["metadata"]["name"]] = renew_time(lease)
        watch = client.watch(LEASES, NS, resource_version=listed["metadata"]["resourceVersion"])

        async def follow():
            nonlocal renewals
            async for etype, lease in watch:
                if etype == "DELETED":
                    continue
                name, t = lease["metadata"]["name"], renew_time(lease)
                before = last.get(name)
                last[name] = t
                if measuring and before is not None and t > before:
                    renewals += 1
                    intervals.append(t - before)
        follower = asyncio.ensure_future(follow())
        t0 = time.monotonic()
        while len(last) < n:
            if sim.proc.poll() is not None:
                raise SystemExit(f"simulator exited:\n{sim.log()}")
            await asyncio.sleep(0.5)
        print(f"{n} Leases exist after {time.monotonic() - t0:.0f}s; measuring for {seconds:.0f}s", flush=True)
        await asyncio.sleep(15)  # let the start-up burst settle into the steady cadence
        measuring = True
        cpu0 = (cpu_seconds(sim.proc.pid), cpu_seconds(server_pid))
        m0 = time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - m0
        cpu1 = (cpu_seconds(sim.proc.pid), cpu_seconds(server_pid))
        now = time.time()
        stale = [now - t for t in last.values()]
        watch.close()
        follower.cancel()
    print(f"renewals: {renewals / elapsed:.0f}/s against {n / 10:.0f}/s needed "
          f"({renewals / elapsed / (n / 10) * 100:.0f}%)")
    print(f"interval between renewals of one node: p50 {pct(intervals, 0.5):.1f}s p99 {pct(intervals, 0.99):.1f}s "
          f"max {max(intervals, default=float('nan')):.1f}s (10-10.4 s asked)")
    print(f"staleness at the end (now - renewTime): p50 {pct(stale, 0.5):.1f}s p99 {pct(stale, 0.99):.1f}s "
          f"max {max(stale):.1f}s; {sum(s > 15 for s in stale)} past 15 s, {sum(s > 40 for s in stale)} past 40 s")
    print(f"CPU over {elapsed:.0f}s: simulator {cpu1[0] - cpu0[0]:.1f}s, API server {cpu1[1] - cpu0[1]:.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        srv = ServerProcess(Path(d) / "server")
        srv.start()
        sim = None
        try:
            srv.wait_ready()
            sim = ControllersProcess(srv.kubeconfig, Path(d), "--simulate", str(args.nodes), "--simulate-taint",
                                     name="simulated-nodes", subcommand="nodeagent")
            asyncio.run(bench(srv.kubeconfig, args.nodes, args.seconds, sim, srv.proc.pid))
        finally:
            if sim is not None:
                sim.stop()
            srv.stop()


if __name__ == "__main__":
    main()
