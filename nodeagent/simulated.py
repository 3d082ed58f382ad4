"""Simulated nodes, for tests and benchmarks where no pod must really run.

A SimulatedNodes writes Node objects (Ready, with capacity) and their Leases in
kube-node-lease, renews the Leases like a node agent would, and plays the node
agent's part in graceful deletion: a pod on one of its nodes that is being
deleted is confirmed gone (grace period 0). It can also mark pods Running/Ready
with an IP. It is an API client like any node agent; nothing is faked on the
server side.
"""
from __future__ import annotations

import asyncio
import itertools

from kubeclient import ApiClient, ApiError, Informer, micro_time
from kubeclient.resources import LEASES, NODES, PODS
from kubeclient.timestamps import now

LEASE_NS = "kube-node-lease"


def node_object(name: str, cpu: str = "4", memory: str = "8Gi", pods: str = "110",
                labels: dict | None = None, taints: list | None = None) -> dict:
    cap = {"cpu": cpu, "memory": memory, "pods": pods}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints} if taints else {},
            "status": {"capacity": cap, "allocatable": cap,
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "simulated node is ready", "lastHeartbeatTime": now(),
                                       "lastTransitionTime": now()}]}}


class SimulatedNodes:
    def __init__(self, client: ApiClient, renew_interval: float = 2.0):
        self.client, self.renew_interval = client, renew_interval
        self.names: set[str] = set()
        self.stopped: set[str] = set()  # nodes whose "agent" is down: no lease renewals
        self._ips = itertools.count(1)
        self._tasks: list[asyncio.Task] = []
        self.pods = Informer(client, PODS)
        self.pods.add_handler(self._pod_seen, lambda old, new: self._pod_seen(new))

    async def add(self, name: str, **kw) -> dict:
        body = node_object(name, **kw)
        try:
            node = await self.client.create(NODES, body)
        except ApiError as e:
            if not e.already_exists:
                raise
            node = await self.client.get(NODES, name)
        # status is not taken on create by a real API server: write it through /status
        node["status"] = body["status"]
        node = await self.client.update_status(NODES, node)
        self.names.add(name)
        await self._renew(name)
        return node

    async def _renew(self, name: str) -> None:
        try:
            lease = await self.client.get(LEASES, name, LEASE_NS)
            lease["spec"]["renewTime"] = micro_time()
            await self.client.update(LEASES, lease, LEASE_NS)
        except ApiError as e:
            if not e.not_found:
                raise
            await self.client.create(LEASES, {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": name, "namespace": LEASE_NS},
                "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": micro_time()}}, LEASE_NS)

    async def set_ready(self, name: str, status: str = "True") -> None:
        node = await self.client.get(NODES, name)
        for c in node["status"].get("conditions") or []:
            if c["type"] == "Ready":
                c.update(status=status, lastHeartbeatTime=now(), reason="KubeletReady" if status == "True"
                         else "KubeletNotReady", message="simulated")
        await self.client.update_status(NODES, node)

    def stop_agent(self, name: str) -> None:
        self.stopped.add(name)

    async def start_agent(self, name: str) -> None:
        self.stopped.discard(name)
        await self._renew(name)
        await self.set_ready(name, "True")

    def _pod_seen(self, pod: dict) -> None:
        spec, meta = pod.get("spec") or {}, pod["metadata"]
        node = spec.get("nodeName")
        if meta.get("deletionTimestamp") and node in self.names and node not in self.stopped:
            asyncio.ensure_future(self._confirm_deleted(pod))

    async def _confirm_deleted(self, pod: dict) -> None:
        m = pod["metadata"]
        try:
            await self.client.delete(PODS, m["name"], m["namespace"], grace_period_seconds=0,
                                     preconditions={"uid": m["uid"]})
        except ApiError:
            pass

    async def run_pod(self, namespace: str, name: str, ready: bool = True) -> dict:
        """Report the pod Running (and Ready) with an IP, as its node agent would."""
        pod = await self.client.get(PODS, name, namespace)
        n = next(self._ips)
        pod["status"].update(phase="Running", podIP=f"10.244.{n // 250}.{n % 250 + 1}",
                             conditions=[{"type": "Ready", "status": "True" if ready else "False",
                                          "lastTransitionTime": now()},
                                         {"type": "PodScheduled", "status": "True", "lastTransitionTime": now()}])
        pod["status"]["podIPs"] = [{"ip": pod["status"]["podIP"]}]
        return await self.client.update_status(PODS, pod)

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.renew_interval)
            await asyncio.gather(*(self._renew(n) for n in self.names - self.stopped), return_exceptions=True)

    def start(self) -> None:
        self._tasks = [asyncio.ensure_future(self.pods.run()), asyncio.ensure_future(self._renew_loop())]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
