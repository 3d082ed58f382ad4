"""Resource usage of the node, its pods and their containers: the kubelet's
/stats/summary (JSON) and /metrics/resource (Prometheus text), what the API
server's metrics.k8s.io reads (as metrics-server reads kubelets).

Containers' CPU time and working set come from Podman's stats (its cgroups);
the node's from /proc. CPU usage as a rate (usageNanoCores) is the change since
the previous reading; without a recent one, two readings a second apart.
"""
from __future__ import annotations

import asyncio
import os
import time

from ..runtime import labels as L
from ..runtime.podman import Podman

_TICKS = os.sysconf("SC_CLK_TCK")
_FRESH_S = 60.0     # a previous reading older than this is not used for a rate
_WINDOW_S = 1.0     # the gap between two readings taken on demand


def node_cpu_seconds() -> float:
    """CPU time the whole host has spent busy (not idle or waiting on I/O)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]   # minus idle and iowait
    return busy / _TICKS


def node_working_set_bytes() -> int:
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            info[k] = int(v.split()[0]) * 1024
    return info["MemTotal"] - info.get("MemAvailable", info.get("MemFree", 0))


class Reading:
    """One moment: cpu seconds and working set per key ("node" or a container id)."""

    def __init__(self, at: float, cpu: dict[str, float], memory: dict[str, int], containers: dict[str, dict]):
        self.at, self.cpu, self.memory, self.containers = at, cpu, memory, containers


def nano_cores(now: Reading, before: Reading | None, key: str) -> int:
    if before is None or key not in before.cpu or now.at <= before.at:
        return 0
    return max(0, int((now.cpu[key] - before.cpu[key]) / (now.at - before.at) * 1e9))


class ResourceStats:
    def __init__(self, podman: Podman, node_name: str):
        self.podman, self.node_name = podman, node_name
        self._last: Reading | None = None
        self._lock = asyncio.Lock()

    async def _read(self) -> Reading:
        listed = await self.podman.container_list({L.NODE_NAME: self.node_name})
        running = {c["Id"]: c for c in listed if c.get("State") == "running"
                   and (c.get("Labels") or {}).get(L.CONTAINER_NAME)}
        stats = await self.podman.container_stats(list(running))
        cpu, memory = {"node": node_cpu_seconds()}, {"node": node_working_set_bytes()}
        for s in stats:
            cid = s.get("ContainerID") or ""
            if cid in running:
                cpu[cid] = (s.get("CPUNano") or 0) / 1e9
                memory[cid] = int(s.get("MemUsage") or 0)
        return Reading(time.monotonic(), cpu, memory, running)

    async def readings(self) -> tuple[Reading, Reading | None]:
        """The current reading and the one a rate is taken against."""
        async with self._lock:
            before = self._last
            if before is None or time.monotonic() - before.at > _FRESH_S:
                before = await self._read()
                await asyncio.sleep(_WINDOW_S)
            now = await self._read()
            self._last = now
            return now, before

    async def summary(self) -> dict:
        now, before = await self.readings()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

        def usage(key: str) -> tuple[dict, dict]:
            return ({"time": stamp, "usageNanoCores": nano_cores(now, before, key),
                     "usageCoreNanoSeconds": int(now.cpu.get(key, 0) * 1e9)},
                    {"time": stamp, "workingSetBytes": now.memory.get(key, 0)})

        pods: dict[tuple[str, str, str], dict] = {}
        for cid, c in now.containers.items():
            labels = c.get("Labels") or {}
            ref = (labels.get(L.POD_NAMESPACE, ""), labels.get(L.POD_NAME, ""), labels.get(L.POD_UID, ""))
            pod = pods.setdefault(ref, {"podRef": {"namespace": ref[0], "name": ref[1], "uid": ref[2]},
                                        "containers": []})
            cpu, mem = usage(cid)
            pod["containers"].append({"name": labels[L.CONTAINER_NAME], "startTime": stamp, "cpu": cpu,
                                      "memory": mem})
        for pod in pods.values():
            cs = pod["containers"]
            pod["cpu"] = {"time": stamp, "usageNanoCores": sum(c["cpu"]["usageNanoCores"] for c in cs),
                          "usageCoreNanoSeconds": sum(c["cpu"]["usageCoreNanoSeconds"] for c in cs)}
            pod["memory"] = {"time": stamp, "workingSetBytes": sum(c["memory"]["workingSetBytes"] for c in cs)}
        cpu, mem = usage("node")
        return {"node": {"nodeName": self.node_name, "startTime": stamp, "cpu": cpu, "memory": mem},
                "pods": list(pods.values())}


def resource_metrics_text(summary: dict) -> bytes:
    """/metrics/resource: the summary's cumulative CPU seconds and working sets, upstream's names."""
    out = ["# HELP node_cpu_usage_seconds_total Cumulative cpu time consumed by the node in core-seconds\n"
           "# TYPE node_cpu_usage_seconds_total counter\n",
           f"node_cpu_usage_seconds_total {summary['node']['cpu']['usageCoreNanoSeconds'] / 1e9}\n",
           "# HELP node_memory_working_set_bytes Current working set of the node in bytes\n"
           "# TYPE node_memory_working_set_bytes gauge\n",
           f"node_memory_working_set_bytes {summary['node']['memory']['workingSetBytes']}\n"]
    families = {"container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the container "
                                                                 "in core-seconds"),
                "container_memory_working_set_bytes": ("gauge", "Current working set of the container in bytes"),
                "pod_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the pod in "
                                                           "core-seconds"),
                "pod_memory_working_set_bytes": ("gauge", "Current working set of the pod in bytes")}
    for name, (kind, help_text) in families.items():
        out.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n")
        for pod in summary["pods"]:
            ref = pod["podRef"]
            items = pod["containers"] if name.startswith("container_") else [pod]
            for item in items:
                who = f'container="{item["name"]}",' if name.startswith("container_") else ""
                v = item["cpu"]["usageCoreNanoSeconds"] / 1e9 if "cpu" in name else item["memory"]["workingSetBytes"]
                out.append(f'{name}{{{who}namespace="{ref["namespace"]}",pod="{ref["name"]}"}} {v}\n')
    return "".join(out).encode()
