"""The eviction manager (the kubelet's): every housekeeping interval, observe
the memory signals; while a hard threshold is met the node reports
MemoryPressure (kept for --eviction-pressure-transition-period after the last
time it was met), an `EvictionThresholdMet` event goes to the Node, and one pod
is evicted per round, chosen as eviction_policy.rank_for_memory orders them.
Critical pods (priority 2000000000 and above) are never evicted."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from . import hostinfo
from .eviction_policy import (MEMORY_AVAILABLE, Threshold, eviction_message, memory_observations, rank_for_memory,
                              thresholds_met, with_allocatable)
from .runtime import labels as L

log = logging.getLogger(__name__)
CRITICAL_PRIORITY = 2000000000  # system-cluster-critical and above


class EvictionManager:
    def __init__(self, podman, workers: Callable[[], list], recorder, node_name: str, *,
                 thresholds: list[Threshold], pods_capacity: int, set_pressure: Callable[[bool], Awaitable[None]],
                 interval: float = 10.0, transition_period: float = 300.0):
        self.podman, self.workers, self.recorder = podman, workers, recorder
        self.node_name = node_name
        self.thresholds = with_allocatable(thresholds)
        self.pods_capacity = pods_capacity
        self.set_pressure = set_pressure
        self.interval, self.transition_period = interval, transition_period
        self.pressure = False
        self._last_met: float | None = None
        self.node_ref = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name, "uid": node_name}}

    async def _usage(self) -> dict[str, dict[str, int]]:
        """pod uid -> container name -> working set bytes, for this node's running containers."""
        listed = await self.podman.container_list({L.NODE_NAME: self.node_name})
        running = {c["Id"]: c.get("Labels") or {} for c in listed
                   if c.get("State") == "running" and (c.get("Labels") or {}).get(L.CONTAINER_NAME)}
        out: dict[str, dict[str, int]] = {}
        for s in await self.podman.container_stats(list(running)):
            labels = running.get(s.get("ContainerID") or "")
            if labels is not None:
                out.setdefault(labels.get(L.POD_UID, ""), {})[labels[L.CONTAINER_NAME]] = int(s.get("MemUsage") or 0)
        return out

    async def synchronize(self) -> None:
        usage = await self._usage()
        capacity = hostinfo.memory_bytes()
        node_working_set = capacity - hostinfo.memory_available_bytes()
        observed = memory_observations(capacity, node_working_set, self.pods_capacity,
                                       sum(sum(c.values()) for c in usage.values()))
        met = thresholds_met(self.thresholds, observed)
        now = time.monotonic()
        if met:
            self._last_met = now
        pressure = self._last_met is not None and now - self._last_met < self.transition_period
        if pressure != self.pressure:
            self.pressure = pressure
            log.info("node %s memory pressure: %s (%s)", self.node_name, pressure,
                     ", ".join(f"{k}={v[0]}" for k, v in observed.items()))
            await self.set_pressure(pressure)
        if not met:
            return
        self.recorder.event(self.node_ref, "Warning", "EvictionThresholdMet", "Attempting to reclaim memory")
        threshold = min(met, key=lambda t: t.signal != MEMORY_AVAILABLE)  # the node's own signal first
        candidates = []
        for w in self.workers():
            status = w.pod.get("status") or {}
            if w.evicted or w.gone or w.pod["metadata"].get("deletionTimestamp") or \
                    status.get("phase") in ("Succeeded", "Failed"):
                continue
            if int((w.pod.get("spec") or {}).get("priority") or 0) >= CRITICAL_PRIORITY:
                continue
            candidates.append((w, sum(usage.get(w.uid, {}).values())))
        ranked = rank_for_memory([(w.pod, used) for w, used in candidates])
        if not ranked:
            log.warning("node %s: memory threshold met and no pod to evict", self.node_name)
            return
        victim_pod = ranked[0][0]
        worker = next(w for w, _ in candidates if w.pod is victim_pod)
        available, cap = observed[threshold.signal]
        message = eviction_message(victim_pod, usage.get(worker.uid, {}), threshold, available, cap)
        m = victim_pod["metadata"]
        log.info("evicting %s/%s: %s", m.get("namespace"), m.get("name"), message)
        self.recorder.event(victim_pod, "Warning", "Evicted", message)
        await worker.evict(message)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.synchronize()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("eviction manager round failed")

