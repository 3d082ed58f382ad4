"""Pod garbage collection, every --pod-gc-period:
- terminated pods beyond --terminated-pod-gc-threshold, oldest first;
- pods bound to a node that does not exist (checked live before deleting);
- unscheduled pods stuck terminating (no node agent will ever confirm them).
The last two are force-deleted (grace period 0), as upstream does."""
from __future__ import annotations

import asyncio
import logging

from kubeclient import ApiError
from kubeclient.resources import NODES, PODS

from .base import Controller

log = logging.getLogger(__name__)


def terminated_to_delete(pods: list[dict], threshold: int) -> list[dict]:
    """The oldest terminated pods over the threshold (pure)."""
    if threshold <= 0:
        return []
    done = [p for p in pods if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp")]
    excess = len(done) - threshold
    if excess <= 0:
        return []
    done.sort(key=lambda p: p["metadata"].get("creationTimestamp") or "")
    return done[:excess]


class PodGC(Controller):
    name = "podgc"
    workers = 0  # no queue: one periodic pass

    def setup(self) -> None:
        self.pods = self.ctx.informers.informer(PODS)
        self.nodes = self.ctx.informers.informer(NODES)
        self.collected = 0  # a metric

    async def background(self) -> None:
        while True:
            try:
                await self.gc_once()
            except ApiError as e:
                log.warning("pod gc: %s", e)
            await asyncio.sleep(self.ctx.options.pod_gc_period)

    async def gc_once(self) -> None:
        pods = self.pods.list()
        for pod in terminated_to_delete(pods, self.ctx.options.terminated_pod_gc_threshold):
            await self._delete(pod, None)
        missing_nodes: dict[str, bool] = {}
        for pod in pods:
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                if self.nodes.get(node) is not None:
                    continue
                if node not in missing_nodes:
                    missing_nodes[node] = await self._node_gone(node)
                if missing_nodes[node]:
                    await self._delete(pod, 0)
            elif pod["metadata"].get("deletionTimestamp"):
                await self._delete(pod, 0)

    async def _node_gone(self, name: str) -> bool:
        try:
            await self.client.get(NODES, name)
            return False
        except ApiError as e:
            if e.not_found:
                return True
            raise

    async def _delete(self, pod: dict, grace: int | None) -> None:
        m = pod["metadata"]
        try:
            await self.client.delete(PODS, m["name"], m["namespace"], grace_period_seconds=grace,
                                     preconditions={"uid": m["uid"]})
            self.collected += 1
        except ApiError as e:
            if not (e.not_found or e.conflict):
                raise
