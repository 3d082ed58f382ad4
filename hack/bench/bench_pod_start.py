"""Pod start latency: create → Running (as a watch sees it), 1 pod and 30 at once,
beside raw `podman run -d` of the same image in the same run.

Starts its own API server and node agent (as separate processes, like a real
node); pods are bound with spec.nodeName so the number is the node agent's.

  python hack/bench/bench_pod_start.py [--pods 30] [--rounds 3] [--seccomp-default false]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from kubeclient import ApiClient  # noqa: E402
from kubeclient.resources import NAMESPACES, PODS, Resource  # noqa: E402
from tests.harness import ServerProcess  # noqa: E402

IMAGE = "localhost/busybox:latest"
CONF = str(REPO / "hack" / "podman" / "containers.conf")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def line(label: str, xs: list[float]) -> str:
    return (f"{label:<34} n={len(xs):<3} p50={statistics.median(xs):6.3f}s  p99={pct(xs, 99):6.3f}s  "
            f"max={max(xs):6.3f}s")


async def podman_run(n: int) -> list[float]:
    """n `podman run -d` at once; latency = process start to container started."""
    env = {**os.environ, "CONTAINERS_CONF": CONF}
    names = [f"bench-raw-{uuid.uuid4().hex[:8]}" for _ in range(n)]

    async def one(name: str) -> float:
        t0 = time.monotonic()
        p = await asyncio.create_subprocess_exec("podman", "run", "-d", "--name", name, IMAGE, "sleep", "600",
                                                 env=env, stdout=asyncio.subprocess.DEVNULL)
        await p.wait()
        return time.monotonic() - t0
    try:
        return list(await asyncio.gather(*(one(n) for n in names)))
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", *names], env=env, capture_output=True)


async def pods_run(client: ApiClient, ns: str, node: str, n: int) -> list[float]:
    names = [f"p-{uuid.uuid4().hex[:8]}" for _ in range(n)]
    created: dict[str, float] = {}
    running: dict[str, float] = {}
    lst = await client.list(PODS, ns)
    watch = client.watch(PODS, ns, resource_version=lst["metadata"]["resourceVersion"])

    async def watcher():
        async for _etype, obj in watch:
            name = obj["metadata"]["name"]
            if name in names and name not in running and (obj.get("status") or {}).get("phase") == "Running":
                running[name] = time.monotonic()
                if len(running) == n:
                    return
    wt = asyncio.ensure_future(watcher())

    async def create(name: str):
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0, "automountServiceAccountToken": False,
                         "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "600"]}]}}
        created[name] = time.monotonic()
        await client.create(PODS, body, ns)
    await asyncio.gather(*(create(x) for x in names))
    await asyncio.wait_for(wt, 120)
    watch.close()
    for x in names:
        await client.delete(PODS, x, ns, grace_period_seconds=0)
    await runtime_pods_gone(node)
    return [running[x] - created[x] for x in names]


async def runtime_pods_gone(node: str, deadline_s: float = 120.0) -> None:
    """Wait until the node agent has removed the deleted pods from Podman. The API object
    goes at once (grace 0) but the teardown runs on: without this wait it overlaps the
    next measurement (raw `podman run` or pods), which then competes for Podman's locks.
    Raw `podman rm` is waited for too, so both sides start from an idle Podman."""
    env = {**os.environ, "CONTAINERS_CONF": CONF}
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        out = subprocess.run(["podman", "pod", "ps", "-q", "--filter", f"label=io.pocketkube.node={node}"],
                             env=env, capture_output=True, text=True).stdout.strip()
        if not out:
            return
        await asyncio.sleep(0.2)
    print(f"warning: runtime pods of {node} still present after {deadline_s:.0f}s", file=sys.stderr)


async def main(args) -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-pod-start-"))
    srv = ServerProcess(base / "apiserver")
    srv.start()
    srv.wait_ready()
    node = f"bench-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "CONTAINERS_CONF": CONF}
    agent = subprocess.Popen([sys.executable, "-m", "pocketkube", "nodeagent", "--kubeconfig", str(srv.kubeconfig),
                              "--node-name", node, "--root-dir", str(base / "node"), "--port", "0",
                              "--seccomp-default", args.seccomp_default],
                             cwd=REPO, env=env, stdout=open(base / "agent.log", "wb"), stderr=subprocess.STDOUT)
    client = ApiClient.from_kubeconfig(str(srv.kubeconfig))
    try:
        for _ in range(300):
            try:
                node_obj = await client.get(Resource("", "v1", "nodes", False), node)
                if node_obj.get("status", {}).get("conditions"):
                    break
            except Exception:
                pass
            await asyncio.sleep(0.1)
        ns = "bench"
        await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        await asyncio.sleep(1)
        await pods_run(client, ns, node, 1)  # warm-up
        await podman_run(1)
        one_pod, one_raw, many_pod, many_raw = [], [], [], []
        for _ in range(args.rounds):
            one_raw += await podman_run(1)
            one_pod += await pods_run(client, ns, node, 1)
            many_raw += await podman_run(args.pods)
            many_pod += await pods_run(client, ns, node, args.pods)
        print(line("raw podman run, 1 at a time", one_raw))
        print(line("pod create→Running, 1 at a time", one_pod))
        print(line(f"raw podman run, {args.pods} at once", many_raw))
        print(line(f"pod create→Running, {args.pods} at once", many_pod))
        print(f"ratio p50 (pods/raw): 1 pod {statistics.median(one_pod) / statistics.median(one_raw):.2f}x, "
              f"{args.pods} pods {statistics.median(many_pod) / statistics.median(many_raw):.2f}x")
    finally:
        await client.close()
        agent.terminate()
        agent.wait(15)
        srv.stop()
        subprocess.run(["sh", "-c", f"podman pod rm -f -t 0 $(podman pod ps -q --filter label=io.pocketkube.node={node})"],
                       env=env, capture_output=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--pods", type=int, default=30)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seccomp-default", default="true",
                   help="the node agent's flag: true (default) filters containers as raw `podman run` "
                        "does; false runs them Unconfined, as upstream's kubelet without the flag")
    asyncio.run(main(p.parse_args()))
