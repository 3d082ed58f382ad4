"""Density, after clusterloader2's density test: N simulated nodes, namespaces of pods
created at a steady rate through Deployments, then deleted; reported against the
Kubernetes SLOs (density_slo.py) with the API server's RSS and CPU, the scheduler's
pods/s and the store's size.

Starts a private API server, `pocketkube controllers` (scheduler, replicaset,
deployment, garbagecollector, namespace; no leader election) and `pocketkube
nodeagent --simulate N` as separate processes. This process creates the Deployments,
watches every pod (pod startup is ADDED to Running as this watch sees them, as
clusterloader2 measures it), and probes single-object GETs, namespace LISTs and
cluster-wide LISTs while the pods come and go.

    python hack/bench/bench_density.py                       # 100 nodes, 3,000 pods
    python hack/bench/bench_density.py --config 1k           # 1,000 nodes, 30,000 pods
    python hack/bench/bench_density.py --config 5k           # 5,000 nodes, 150,000 pods
    python hack/bench/bench_density.py --nodes 20 --pods 200 --json out.json
    python hack/bench/bench_density.py --config 5k --max-seconds 720   # bounded: reports what it reached

--max-seconds bounds the run's wall time after the server is up (the shared machine cannot
give 5k its hour): creating stops at 40% of what remains once the nodes are Ready, the wait
for Running at 50%, the namespaces created so far are deleted at the same steady rate, and
the wait for them to go ends at the bound; the report names what was reached.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from density_slo import THRESHOLDS, percentile, server_latencies, worst_by_class  # noqa: E402
from kubeclient import ApiClient, ApiError, Informer  # noqa: E402
from kubeclient.resources import DEPLOYMENTS, NAMESPACES, NODES, PODS  # noqa: E402
from tests.harness import ServerProcess, running_server  # noqa: E402
from tests.integration.controllers_support import ControllersProcess  # noqa: E402

CONFIGS = {"dev": (100, 3000), "1k": (1000, 30000), "5k": (5000, 150000)}
NS_LABEL = "density.pocketkube.io/run"
SIM_LABEL = "node.pocketkube.io/simulated"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def deployment(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"group": "density"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"name": name}},
                     "template": {"metadata": {"labels": {"name": name, "group": "density"}}, "spec": {
                         "tolerations": [{"key": SIM_LABEL, "operator": "Exists", "effect": "NoSchedule"}],
                         "nodeSelector": {SIM_LABEL: "true"},
                         "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.9",
                                         "resources": {"requests": {"cpu": "1m", "memory": "10Mi"}}}]}}}}


class PodTimes:
    """Every pod of the run as this process's watch sees it: when added, bound, Running, gone."""

    def __init__(self, client: ApiClient):
        self.added: dict[str, float] = {}
        self.bound: dict[str, float] = {}
        self.running: dict[str, float] = {}
        self.deleted = 0
        self.informer = Informer(client, PODS, label_selector="group=density")
        self.informer.add_handler(self._add, lambda old, new: self._seen(new), self._gone)

    def _add(self, pod: dict) -> None:
        self.added.setdefault(pod["metadata"]["uid"], time.monotonic())
        self._seen(pod)

    def _seen(self, pod: dict) -> None:
        uid, t = pod["metadata"]["uid"], time.monotonic()
        if (pod.get("spec") or {}).get("nodeName"):
            self.bound.setdefault(uid, t)
        if (pod.get("status") or {}).get("phase") == "Running":
            self.running.setdefault(uid, t)

    def _gone(self, pod: dict) -> None:
        self.deleted += 1

    def startup_latencies(self) -> list[float]:
        return [self.running[u] - self.added[u] for u in self.running if u in self.added]

    def scheduler_rate(self) -> float:
        times = sorted(self.bound.values())
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else math.nan


class Timed:
    """Client-side latencies of this process's calls, by SLO class."""

    def __init__(self):
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}

    async def __call__(self, cls: str, coro):
        t0 = time.monotonic()
        try:
            return await coro
        except ApiError as e:
            if not (cls == "get" and e.not_found):  # the probe's pod was deleted meanwhile: an answer, not an error
                self.errors[f"{cls} {e.code}"] = self.errors.get(f"{cls} {e.code}", 0) + 1
        finally:
            self.samples.setdefault(cls, []).append(time.monotonic() - t0)


async def wait_for(check, timeout: float, what: str, procs=(), interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.proc.poll() is not None:
                raise SystemExit(f"{p.log_path.name} exited:\n{p.log()}")
        if await check():
            return True
        await asyncio.sleep(interval)
    print(f"  !! timed out after {timeout:.0f}s waiting for {what}", flush=True)
    return False


async def probe(client: ApiClient, timed: Timed, times: PodTimes, namespaces: list[str], pid: int,
                stats: dict, stop: asyncio.Event) -> None:
    """Reads as users make them while the load runs: a GET a second, a namespace LIST a second,
    a cluster-wide LIST every 10 s; and the API server's RSS sampled every second."""
    tick = 0
    while not stop.is_set():
        stats["rss_max"] = max(stats.get("rss_max", 0.0), rss_mib(pid))
        pods = times.informer.list()
        if pods:
            m = random.choice(pods)["metadata"]
            await timed("get", client.get(PODS, m["name"], m["namespace"]))
        if namespaces:
            await timed("list namespace", client.list(PODS, random.choice(namespaces)))
        if tick % 10 == 0:
            await timed("list cluster", client.list(PODS))
        tick += 1
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass


async def bench(srv: ServerProcess, log_dir: Path, a: argparse.Namespace) -> dict:
    pid = srv.proc.pid
    bound = time.monotonic() + a.max_seconds if a.max_seconds else math.inf
    sim = ControllersProcess(srv.kubeconfig, log_dir, "--simulate", str(a.nodes), "--simulate-taint",
                             "--simulate-pods", str(max(110, 2 * a.pods // a.nodes)),
                             name="simulated-nodes", subcommand="nodeagent")
    ctl = ControllersProcess(srv.kubeconfig, log_dir, "--leader-elect=false",
                             "--controllers=scheduler,replicaset,deployment,garbagecollector,namespace",
                             name="controllers")
    procs = (sim, ctl)
    result: dict = {"nodes": a.nodes, "pods": a.pods, "max_seconds": a.max_seconds}
    async with ApiClient.from_kubeconfig(str(srv.kubeconfig)) as client:
        try:
            t0 = time.monotonic()

            async def nodes_ready():
                items = (await client.list(NODES, label_selector=f"{SIM_LABEL}=true"))["items"]
                return sum(any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions") or [])
                           for n in items) >= a.nodes
            result["nodes_all_ready"] = await wait_for(
                nodes_ready, min(60 + a.nodes / 10, max(1.0, 0.3 * (bound - t0))), f"{a.nodes} nodes Ready", procs,
                interval=max(0.5, a.nodes / 1000))  # a LIST of 5,000 nodes takes the server seconds
            result["nodes_ready_s"] = time.monotonic() - t0
            left = bound - time.monotonic()
            create_end, running_end = time.monotonic() + 0.4 * left, time.monotonic() + 0.5 * left
            print(f"  {a.nodes} simulated nodes Ready after {result['nodes_ready_s']:.1f}s", flush=True)

            times, timed = PodTimes(client), Timed()
            watch = asyncio.ensure_future(times.informer.run())
            await times.informer.wait_synced()
            n_ns = math.ceil(a.pods / a.pods_per_namespace)
            namespaces: list[str] = []
            stop, stats = asyncio.Event(), {}
            prober = asyncio.ensure_future(probe(client, timed, times, namespaces, pid, stats, stop))

            # --- create: Deployments at a steady pod rate ---
            api0, ctl0, sim0, own0, t0 = cpu_seconds(pid), cpu_seconds(ctl.proc.pid), cpu_seconds(sim.proc.pid), own_cpu(), time.monotonic()
            writes, created = [], 0
            for i in range(n_ns):
                if time.monotonic() >= create_end:
                    print(f"  --max-seconds: creating stopped at {created} of {a.pods} pods", flush=True)
                    break
                ns = f"density-{i}"
                await timed("mutating", client.create(NAMESPACES, {"metadata": {"name": ns, "labels": {NS_LABEL: "1"}}}))
                namespaces.append(ns)
                j = 0
                while created < a.pods and j * a.replicas < a.pods_per_namespace and time.monotonic() < create_end:
                    replicas = min(a.replicas, a.pods - created, a.pods_per_namespace - j * a.replicas)
                    delay = t0 + created / a.pod_rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    writes.append(asyncio.ensure_future(timed("mutating", client.create(
                        DEPLOYMENTS, deployment(f"d-{j}", replicas), ns))))
                    created, j = created + replicas, j + 1
            await asyncio.gather(*writes)
            result["asked"] = created

            async def all_running():
                return len(times.running) >= created
            ok = await wait_for(all_running, min(60 + 3 * created / a.pod_rate, max(1.0, running_end - time.monotonic())),
                                f"{created} pods Running", procs)
            result.update(all_running=ok, running=len(times.running), create_s=time.monotonic() - t0,
                          create_cpu={"apiserver": cpu_seconds(pid) - api0, "controllers": cpu_seconds(ctl.proc.pid) - ctl0,
                                      "simulated_nodes": cpu_seconds(sim.proc.pid) - sim0, "bench": own_cpu() - own0})
            print(f"  {result['running']}/{created} pods Running after {result['create_s']:.1f}s", flush=True)
            result["rss_after_create_mib"] = rss_mib(pid)

            # --- delete: the namespaces, at a steady rate ---
            api0, ctl0, sim0, own0, t0 = cpu_seconds(pid), cpu_seconds(ctl.proc.pid), cpu_seconds(sim.proc.pid), own_cpu(), time.monotonic()
            per_ns_s = a.pods_per_namespace / a.pod_rate
            for k, ns in enumerate(list(namespaces)):
                delay = t0 + k * per_ns_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await timed("mutating", client.delete(NAMESPACES, ns))
            namespaces.clear()

            async def all_gone():
                if times.informer.list():
                    return False
                return not (await client.list(NAMESPACES, label_selector=NS_LABEL))["items"]
            ok = await wait_for(all_gone, min(60 + 3 * created / a.pod_rate, max(1.0, bound - time.monotonic())),
                                "every pod and namespace gone", procs)
            result.update(all_deleted=ok, pods_left=len(times.informer.list()), delete_s=time.monotonic() - t0,
                          delete_cpu={"apiserver": cpu_seconds(pid) - api0, "controllers": cpu_seconds(ctl.proc.pid) - ctl0,
                                      "simulated_nodes": cpu_seconds(sim.proc.pid) - sim0, "bench": own_cpu() - own0})
            print(f"  every pod gone: {ok} after {result['delete_s']:.1f}s", flush=True)
            stop.set()
            await prober
            watch.cancel()

            metrics = (await client._http.get("/metrics")).text
            rows = server_latencies(metrics)
            startup = times.startup_latencies()
            result.update(
                server=rows, server_worst=worst_by_class(rows),
                client={cls: {"count": len(s), "p50": percentile(s, 50), "p99": percentile(s, 99)}
                        for cls, s in timed.samples.items()},
                client_errors=timed.errors,
                pod_startup={"count": len(startup), "p50": percentile(startup, 50), "p99": percentile(startup, 99)},
                scheduler_pods_per_s=times.scheduler_rate(), apiserver_rss_max_mib=stats.get("rss_max"),
                store_bytes=sum(f.stat().st_size for f in srv.data_dir.rglob("*") if f.is_file()
                                and (".db" in f.name or f.suffix in (".sqlite", ".wal"))))
        finally:
            ctl.stop()
            sim.stop()
    return result


def report(r: dict) -> None:
    print(f"\nDensity: {r['nodes']} simulated nodes, {r['pods']} pods (2 shared cores)")
    if r.get("asked", r["pods"]) < r["pods"] or not r.get("nodes_all_ready", True):
        print(f"  BOUNDED by --max-seconds {r['max_seconds']}: nodes all Ready {r['nodes_all_ready']} "
              f"after {r['nodes_ready_s']:.0f}s; pods asked for {r['asked']} of {r['pods']}")
    print(f"  create: all Running {r['all_running']} ({r['running']}/{r.get('asked', r['pods'])}) in {r['create_s']:.1f}s; "
          f"delete: all gone {r['all_deleted']} in {r['delete_s']:.1f}s")
    for phase in ("create_cpu", "delete_cpu"):
        print(f"  CPU s during {phase[:-4]}: " + ", ".join(f"{k} {v:.1f}" for k, v in r[phase].items()))
    print(f"  API server RSS max {r['apiserver_rss_max_mib']:.0f} MiB (after create {r['rss_after_create_mib']:.0f} MiB); "
          f"store {r['store_bytes'] / 2**20:.1f} MiB; scheduler {r['scheduler_pods_per_s']:.0f} pods/s")
    ps = r["pod_startup"]
    verdict = {True: "met", False: "MISSED"}
    print(f"  pod startup (watch ADDED -> Running) n={ps['count']} p50 {ps['p50']:.3f}s p99 {ps['p99']:.3f}s "
          f"(SLO {THRESHOLDS['pod startup']:.0f}s: {verdict[ps['p99'] <= THRESHOLDS['pod startup']]})")
    print("  SLO class        server worst p99   client p99 (n)     threshold")
    for cls in ("mutating", "get", "list namespace", "list cluster"):
        c, worst = r["client"].get(cls, {}), r["server_worst"].get(cls, math.nan)
        met = not (worst > THRESHOLDS[cls] or c.get("p99", 0) > THRESHOLDS[cls])
        print(f"  {cls:<16} {worst:9.3f}s        "
              f"{c.get('p99', math.nan):7.3f}s ({c.get('count', 0):>5})   {THRESHOLDS[cls]:.0f}s {verdict[met]}")
    print("  server p99 per verb/resource (top 12 by p99, n >= 5):")
    for row in sorted((x for x in r["server"] if x["count"] >= 5), key=lambda x: -x["p99"])[:12]:
        sub = f"/{row['subresource']}" if row["subresource"] else ""
        print(f"    {row['verb']:<7} {row['resource'] + sub:<24} {row['scope']:<9} n={row['count']:<7} p99 {row['p99']:.3f}s")
    if r["client_errors"]:
        print(f"  client errors: {r['client_errors']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="dev", help="dev 100/3,000; 1k 1,000/30,000; 5k 5,000/150,000")
    ap.add_argument("--nodes", type=int, help="override the configuration's node count")
    ap.add_argument("--pods", type=int, help="override the configuration's pod count")
    ap.add_argument("--replicas", type=int, default=30, help="pods per Deployment")
    ap.add_argument("--pods-per-namespace", type=int, default=300)
    ap.add_argument("--pod-rate", type=float, default=50.0, help="pods per second the Deployments ask for")
    ap.add_argument("--max-seconds", type=float, help="bound the run's wall time (after the server is up); report what was reached")
    ap.add_argument("--json", type=Path, help="write the results here too")
    a = ap.parse_args()
    nodes, pods = CONFIGS[a.config]
    a.nodes, a.pods = a.nodes or nodes, a.pods or pods
    with tempfile.TemporaryDirectory() as d, running_server(Path(d) / "server") as srv:
        r = asyncio.run(bench(srv, Path(d), a))
    report(r)
    if a.json:
        a.json.write_text(json.dumps(r, indent=1, default=str))


if __name__ == "__main__":
    main()
