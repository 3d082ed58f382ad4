"""Simulated nodes: `pocketkube nodeagent --simulate N`, and the tests' and benchmarks' nodes.

A SimulatedNodes plays the node agent of many Nodes from one process, through the
API as any node agent would (nothing is faked on the server side): it registers
each Node (Ready, with capacity, a pod CIDR and the simulated-node label),
renews its Lease every renew_interval with jitter (a merge PATCH of renewTime,
pipelined with the other nodes' over a few HTTP/1.1 connections, as the pods'
status writes: 5,000 nodes need 500 renewals/s, more than one process can send
through httpx), reports its status again on
upstream's cadence (nodeStatusReportFrequency, 5 minutes) or on change, and
confirms at once the deletion of a pod bound to it. With run_pods it also moves
bound pods through KWOK's default stages (simulated_pods.py): Running and Ready
with an IP from the node's pod CIDR, and a Job's pod on to Succeeded. Tests that
drive pod phases themselves leave run_pods off and call run_pod.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import random

import orjson

from kubeclient import ApiClient, ApiError, Informer, micro_time
from kubeclient.pipelined import PipelinedWriter
from kubeclient.resources import LEASES, NODES, PODS
from kubeclient.timestamps import now

from .simulated_pods import (DEFAULT_POD_CIDR, SIMULATED_LABEL, SIMULATED_TAINT, PodIPs, completed_status,
                             next_stage, node_pod_cidr, running_status)

log = logging.getLogger(__name__)

LEASE_NS = "kube-node-lease"
LEASE_DURATION = 40
STATUS_REPORT_PERIOD = 300.0  # upstream's nodeStatusReportFrequency
JITTER = 0.04  # the kubelet's lease renewal jitter factor
SIM_VERSION = "v1.33.0-pocketkube-simulated"


def node_object(name: str, cpu: str = "4", memory: str = "8Gi", pods: str = "110",
                labels: dict | None = None, taints: list | None = None, pod_cidr: str | None = None) -> dict:
    cap = {"cpu": cpu, "memory": memory, "pods": pods}
    ts = now()
    conditions = [{"type": kind, "status": "False", "reason": f"KubeletHasNo{kind}", "message": "simulated",
                   "lastHeartbeatTime": ts, "lastTransitionTime": ts}
                  for kind in ("MemoryPressure", "DiskPressure", "PIDPressure")]
    conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                       "message": "simulated node is ready", "lastHeartbeatTime": ts, "lastTransitionTime": ts})
    spec: dict = {}
    if taints:
        spec["taints"] = taints
    if pod_cidr:
        spec.update(podCIDR=pod_cidr, podCIDRs=[pod_cidr])
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                  SIMULATED_LABEL: "true", **(labels or {})}},
            "spec": spec,
            "status": {"capacity": cap, "allocatable": cap, "conditions": conditions,
                       "nodeInfo": {"kubeletVersion": SIM_VERSION, "kubeProxyVersion": SIM_VERSION,
                                    "operatingSystem": "linux", "architecture": "amd64",
                                    "containerRuntimeVersion": "simulated://0", "osImage": "simulated",
                                    "kernelVersion": "simulated", "machineID": "", "systemUUID": "", "bootID": ""}}}


class SimulatedNodes:
    def __init__(self, client: ApiClient, renew_interval: float = 2.0, *, run_pods: bool = False,
                 cluster_cidr: str = DEFAULT_POD_CIDR, status_report_period: float = STATUS_REPORT_PERIOD,
                 concurrency: int = 64):
        self.client, self.renew_interval, self.run_pods = client, renew_interval, run_pods
        self.cluster_cidr, self.status_report_period = cluster_cidr, status_report_period
        self.names: set[str] = set()
        self.stopped: set[str] = set()  # nodes whose "agent" is down: no lease renewals
        self.ips: dict[str, PodIPs] = {}
        self._index = itertools.count()
        self._leases: dict[str, dict] = {}
        self._busy: set[str] = set()  # pod uids with a write in flight
        self._sem = asyncio.Semaphore(concurrency)
        self._tasks: list[asyncio.Task] = []
        self._node_tasks: dict[str, list[asyncio.Task]] = {}
        self._fallback_ips = itertools.count(1)
        self._renewals: PipelinedWriter | None = None
        self.pods = Informer(client, PODS)
        self.pods.add_handler(self._pod_seen, lambda old, new: self._pod_seen(new), self._pod_gone)

    # --- nodes ----------------------------------------------------------------------------
    async def add(self, name: str, **kw) -> dict:
        cidr = node_pod_cidr(self.cluster_cidr, next(self._index))
        body = node_object(name, pod_cidr=cidr, **kw)
        async with self._sem:
            try:
                node = await self.client.create(NODES, body)
            except ApiError as e:
                if not e.already_exists:
                    raise
                node = await self.client.get(NODES, name)
            # status is not taken on create by a real API server: write it through /status
            node["status"] = body["status"]
            node = await self.client.update_status(NODES, node)
        self.ips[name] = PodIPs(node["spec"].get("podCIDR") or cidr)
        self.names.add(name)
        await self._renew(name)
        if self._tasks:
            self._start_node(name)
        return node

    async def _renew(self, name: str) -> None:
        async with self._sem:
            lease = self._leases.get(name)
            if lease is not None:
                lease["spec"]["renewTime"] = micro_time()
                try:
                    self._leases[name] = await self.client.update(LEASES, lease, LEASE_NS)
                    return
                except ApiError as e:
                    if not (e.conflict or e.not_found):
                        raise
            elif await self._create_lease(name):
                # a node met for the first time has no Lease yet, as a rule: one create
                # instead of a GET answered 404 and then the create (5,000 nodes registering)
                return
            try:
                lease = await self.client.get(LEASES, name, LEASE_NS)
                lease["spec"]["renewTime"] = micro_time()
                self._leases[name] = await self.client.update(LEASES, lease, LEASE_NS)
            except ApiError as e:
                if not e.not_found:
                    raise
                await self._create_lease(name)

    async def _create_lease(self, name: str) -> bool:
        """Create the node's Lease; False when one exists already."""
        try:
            self._leases[name] = await self.client.create(LEASES, {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": name, "namespace": LEASE_NS},
                "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION,
                         "renewTime": micro_time()}}, LEASE_NS)
            return True
        except ApiError as e:
            if not e.already_exists:
                raise
            return False

    async def _renew_often(self, name: str) -> None:
        """The periodic renewal: only renewTime changes, so a merge PATCH (no read, no
        conflict) sent down the pipeline; a Lease gone meanwhile is made again."""
        body = orjson.dumps({"spec": {"holderIdentity": name, "renewTime": micro_time()}})
        try:
            status, raw = await self._pipeline().send("PATCH", LEASES.path(LEASE_NS, name), body,
                                                    "application/merge-patch+json")
        except ConnectionError as e:
            log.warning("simulated node %s: lease renewal lost: %s", name, e)
            return
        if status == 404:
            await self._renew(name)
        elif status >= 400:
            log.warning("simulated node %s: lease renewal: %d %s", name, status, raw[:200])

    def _pipeline(self) -> PipelinedWriter:
        if self._renewals is None:
            self._renewals = PipelinedWriter(self.client.config, user_agent="pocketkube-simulated-nodes")
        return self._renewals

    async def set_ready(self, name: str, status: str = "True") -> None:
        """Report the Ready condition (a heartbeat; a transition when it changes)."""
        async with self._sem:
            node = await self.client.get(NODES, name)
            for c in node["status"].get("conditions") or []:
                if c["type"] == "Ready":
                    if c.get("status") != status:
                        c["lastTransitionTime"] = now()
                    c.update(status=status, lastHeartbeatTime=now(), reason="KubeletReady" if status == "True"
                             else "KubeletNotReady", message="simulated")
            await self.client.update_status(NODES, node)

    def stop_agent(self, name: str) -> None:
        self.stopped.add(name)

    async def start_agent(self, name: str) -> None:
        self.stopped.discard(name)
        await self._renew(name)
        await self.set_ready(name, "True")

    async def _every(self, name: str, period: float, action) -> None:
        # a random first offset spreads N nodes' writes over the period instead of a burst
        await asyncio.sleep(random.uniform(0, period))
        while True:
            if name not in self.stopped:
                try:
                    await action(name)
                except ApiError as e:
                    log.warning("simulated node %s: %s", name, e)
            await asyncio.sleep(period * (1 + random.uniform(0, JITTER)))

    def _start_node(self, name: str) -> None:
        self._node_tasks[name] = [asyncio.ensure_future(self._every(name, self.renew_interval, self._renew_often)),
                                  asyncio.ensure_future(self._every(name, self.status_report_period,
                                                                    self.set_ready))]

    # --- pods -----------------------------------------------------------------------------
    def _pod_seen(self, pod: dict) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node not in self.names or node in self.stopped:
            return
        stage = next_stage(pod)
        if stage is None or (stage != "delete" and not self.run_pods):
            return
        uid = pod["metadata"]["uid"]
        if uid not in self._busy:
            self._busy.add(uid)
            asyncio.ensure_future(self._advance(stage, node, pod))

    def _pod_gone(self, pod: dict) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node in self.ips:
            self.ips[node].release(pod["metadata"]["uid"])

    async def _advance(self, stage: str, node: str, pod: dict) -> None:
        m = pod["metadata"]
        # Down the pipeline (as the renewals): only the answer's status matters. A refusal
        # (gone or changed meanwhile) is left alone: the watch brings the newer pod, and
        # it is looked at again.
        try:
            if stage == "delete":
                body = {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                        "preconditions": {"uid": m["uid"]}}
                await self._pipeline().send("DELETE", PODS.path(m["namespace"], m["name"]), orjson.dumps(body))
            else:
                status = (running_status(pod, self.ips[node].assign(m["uid"])) if stage == "run"
                          else completed_status(pod))
                await self._pipeline().send("PUT", PODS.path(m["namespace"], m["name"], "status"),
                                            orjson.dumps({**pod, "status": status}))
        except ConnectionError as e:
            log.warning("simulated pod %s/%s: %s", m["namespace"], m["name"], e)
        finally:
            self._busy.discard(m["uid"])
        if stage != "delete":
            newer = self.pods.get(f"{m['namespace']}/{m['name']}")
            if newer is not None and newer["metadata"]["resourceVersion"] != m["resourceVersion"]:
                self._pod_seen(newer)

    async def run_pod(self, namespace: str, name: str, ready: bool = True) -> dict:
        """Report the pod Running (and Ready) with an IP, as its node agent would."""
        pod = await self.client.get(PODS, name, namespace)
        node = pod["spec"].get("nodeName")
        if node in self.ips:
            ip = self.ips[node].assign(pod["metadata"]["uid"])
        else:
            n = next(self._fallback_ips)
            ip = f"10.244.{n // 250}.{n % 250 + 1}"
        pod["status"] = running_status(pod, ip, ready)
        return await self.client.update_status(PODS, pod)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [asyncio.ensure_future(self.pods.run())]
        for name in self.names:
            self._start_node(name)

    async def stop(self) -> None:
        tasks = self._tasks + [t for ts in self._node_tasks.values() for t in ts]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks, self._node_tasks = [], {}
        if self._renewals is not None:
            await self._renewals.close()
            self._renewals = None


async def run_simulated(client: ApiClient, count: int, prefix: str, *, taint: bool, labels: dict,
                        cpu: str, memory: str, pods: str, cluster_cidr: str,
                        renew_interval: float = 10.0) -> None:
    """`pocketkube nodeagent --simulate N`: register N nodes and play their agents until cancelled."""
    sim = SimulatedNodes(client, renew_interval, run_pods=True, cluster_cidr=cluster_cidr)
    sim.start()
    width = len(str(count - 1))
    try:
        await asyncio.gather(*(sim.add(f"{prefix}{i:0{width}d}", cpu=cpu, memory=memory, pods=pods, labels=labels,
                                       taints=[SIMULATED_TAINT] if taint else None)
                               for i in range(count)))
        log.info("%d simulated nodes registered (%s%s..%s%d)", count, prefix, "0" * width, prefix, count - 1)
        await asyncio.Event().wait()
    finally:
        await sim.stop()
