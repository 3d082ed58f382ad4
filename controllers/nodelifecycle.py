"""Node lifecycle: notices nodes that stopped reporting, taints them, evicts their pods.

Health is judged on our own clock: the last time we *saw* the node's Lease
(kube-node-lease/<node>) or its Ready heartbeat change. After
--node-monitor-grace-period without a change the node's conditions go Unknown
and it gets the `node.kubernetes.io/unreachable` NoSchedule and NoExecute
taints; a node reporting Ready=False gets the `not-ready` ones, and a node
reporting MemoryPressure (DiskPressure, PIDPressure, NetworkUnavailable) the
matching NoSchedule taint while it does. Pods on a node
with a NoExecute taint are deleted once their toleration runs out (pods without
a toleration for it get --default-unreachable-toleration-seconds, what the
DefaultTolerationSeconds admission plugin would have given them). A node that
is Ready again loses the taints.
"""
from __future__ import annotations

import asyncio
import logging
import time

from kubeclient import ApiError, Resource, timestamps
from kubeclient.resources import NODES, PODS

from .base import Controller
from .taints import NOT_READY, UNREACHABLE, node_condition, tolerating

log = logging.getLogger(__name__)
LEASES_NS = "kube-node-lease"
NODE_LEASES = Resource("coordination.k8s.io", "v1", "leases")
HEALTH_TAINT_KEYS = (NOT_READY, UNREACHABLE)
# TaintNodesByCondition: a condition that is True keeps new pods off the node (NoSchedule)
CONDITION_TAINTS = {"MemoryPressure": "node.kubernetes.io/memory-pressure",
                    "DiskPressure": "node.kubernetes.io/disk-pressure",
                    "PIDPressure": "node.kubernetes.io/pid-pressure",
                    "NetworkUnavailable": "node.kubernetes.io/network-unavailable"}
MANAGED_KEYS = HEALTH_TAINT_KEYS + tuple(CONDITION_TAINTS.values())


def wanted_taints(node: dict, unreachable: bool) -> list[dict]:
    """The node's taints with the health and condition taints set to match its state (pure)."""
    current = (node.get("spec") or {}).get("taints") or []
    keep = [t for t in current if t.get("key") not in MANAGED_KEYS]
    existing = {(t.get("key"), t.get("effect")): t for t in current}
    ready = (node_condition(node, "Ready") or {}).get("status")
    key = UNREACHABLE if unreachable or ready == "Unknown" else NOT_READY if ready != "True" else None
    added = []
    if key is not None:
        added = [existing.get((key, "NoSchedule")) or {"key": key, "effect": "NoSchedule"},
                 existing.get((key, "NoExecute")) or {"key": key, "effect": "NoExecute", "timeAdded": timestamps.now()}]
    if key is None:  # an unreachable node's conditions are stale: only its health counts
        for ctype, taint_key in CONDITION_TAINTS.items():
            if (node_condition(node, ctype) or {}).get("status") == "True":
                added.append(existing.get((taint_key, "NoSchedule")) or {"key": taint_key, "effect": "NoSchedule"})
    return keep + added


def eviction_deadline(pod: dict, taints: list[dict], default_seconds: int) -> float | None:
    """When (epoch seconds) the pod must go because of its node's NoExecute taints; None if never."""
    deadline = None
    tolerations = (pod.get("spec") or {}).get("tolerations")
    for taint in taints:
        if taint.get("effect") != "NoExecute":
            continue
        added = timestamps.parse_time(taint.get("timeAdded")) or time.time()
        tol = tolerating(tolerations, taint)
        if tol is None:
            seconds = default_seconds if taint.get("key") in HEALTH_TAINT_KEYS else 0
        elif tol.get("tolerationSeconds") is None:
            continue  # tolerated forever
        else:
            seconds = max(0, int(tol["tolerationSeconds"]))
        at = added + seconds
        deadline = at if deadline is None else min(deadline, at)
    return deadline


class NodeLifecycleController(Controller):
    name = "nodelifecycle"
    workers = 2

    def setup(self) -> None:
        self.nodes = self.ctx.informers.informer(NODES)
        self.pods = self.ctx.informers.informer(PODS)
        self.leases = self.ctx.informers.informer(NODE_LEASES, LEASES_NS)
        self.recorder = self.ctx.recorder("node-controller")
        self._seen: dict[str, tuple[tuple, float]] = {}  # node -> (heartbeat signature, seen at)
        self.nodes.add_handler(*self.enqueue_handlers())
        self.evictions = 0  # a metric

    def _heartbeat(self, name: str) -> tuple:
        lease = self.leases.get(f"{LEASES_NS}/{name}")
        node = self.nodes.get(name) or {}
        ready = node_condition(node, "Ready") or {}
        return ((lease or {}).get("spec", {}).get("renewTime"), ready.get("lastHeartbeatTime"),
                ready.get("status"))

    def _unreachable(self, name: str) -> bool:
        beat = self._heartbeat(name)
        now = time.monotonic()
        seen = self._seen.get(name)
        if seen is None or seen[0] != beat:
            self._seen[name] = (beat, now)
            return False
        return now - seen[1] > self.ctx.options.node_monitor_grace_period

    async def background(self) -> None:
        while True:
            for name in list(self.nodes.cache):
                self.queue.add(name)
            for name in list(self._seen):
                if self.nodes.get(name) is None:
                    self._seen.pop(name, None)
            await asyncio.sleep(self.ctx.options.node_monitor_period)

    async def sync(self, name: str) -> None:
        node = self.nodes.get(name)
        if node is None:
            return
        unreachable = self._unreachable(name)
        if unreachable and (node_condition(node, "Ready") or {}).get("status") != "Unknown":
            node = await self._mark_unknown(node)
        taints = wanted_taints(node, unreachable)
        if taints != ((node.get("spec") or {}).get("taints") or []):
            fresh = dict(node, spec=dict(node.get("spec") or {}, taints=taints or None))
            if not taints:
                fresh["spec"].pop("taints")
            was_unhealthy = any(t.get("key") in HEALTH_TAINT_KEYS for t in (node.get("spec") or {}).get("taints") or [])
            node = await self.client.update(NODES, fresh)
            self.nodes.assume(node)
            unhealthy = any(t.get("key") in HEALTH_TAINT_KEYS for t in taints)
            if unhealthy != was_unhealthy:
                reason = "NodeNotReady" if unhealthy else "NodeReady"
                self.recorder.event(node, "Normal", reason, f"Node {name} status is now: {reason}")
        await self._evict(node, taints)

    async def _mark_unknown(self, node: dict) -> dict:
        now = timestamps.now()
        conds = []
        for c in (node.get("status") or {}).get("conditions") or []:
            if c.get("status") != "Unknown":
                c = dict(c, status="Unknown", reason="NodeStatusUnknown", lastTransitionTime=now,
                         message="Kubelet stopped posting node status.")
            conds.append(c)
        if not any(c.get("type") == "Ready" for c in conds):
            conds.append({"type": "Ready", "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                          "message": "Kubelet never posted node status.", "lastTransitionTime": now,
                          "lastHeartbeatTime": now})
        fresh = dict(node, status=dict(node.get("status") or {}, conditions=conds))
        updated = await self.client.update_status(NODES, fresh)
        self.nodes.assume(updated)
        log.info("node %s: no heartbeat for %ss, marked Unknown", node["metadata"]["name"],
                 self.ctx.options.node_monitor_grace_period)
        return updated

    async def _evict(self, node: dict, taints: list[dict]) -> None:
        if not any(t.get("effect") == "NoExecute" for t in taints):
            return
        name = node["metadata"]["name"]
        soonest = None
        for pod in self.pods.list():
            if (pod.get("spec") or {}).get("nodeName") != name or pod["metadata"].get("deletionTimestamp"):
                continue
            deadline = eviction_deadline(pod, taints, self.ctx.options.default_toleration_seconds)
            if deadline is None:
                continue
            if deadline <= time.time():
                m = pod["metadata"]
                try:
                    await self.client.delete(PODS, m["name"], m["namespace"], preconditions={"uid": m["uid"]})
                    self.evictions += 1
                    self.recorder.event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod "
                                                                               f"{m['namespace']}/{m['name']}")
                except ApiError as e:
                    if not (e.not_found or e.conflict):
                        raise
            else:
                soonest = deadline if soonest is None else min(soonest, deadline)
        if soonest is not None:
            self.queue.add_after(name, max(0.05, soonest - time.time()))
