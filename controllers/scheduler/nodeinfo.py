"""What the scheduler knows about each node: its object and what bound pods use.

Pods count against a node from the moment the scheduler decides (assumes) to
bind them, before the watch confirms it, so back-to-back decisions do not
overbook a node. A pod stops counting when it terminates or is deleted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kubeclient.quantity import to_units

from ..taints import effective_taints

# What scoring assumes a container without requests uses (upstream's defaults),
# so that many request-less pods still spread out.
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024


def pod_requests(pod: dict) -> dict[str, int]:
    """Sum of container requests, at least each init container's, plus overhead."""
    spec = pod.get("spec") or {}
    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        for name, value in ((c.get("resources") or {}).get("requests") or {}).items():
            total[name] = total.get(name, 0) + to_units(name, value)
    for c in spec.get("initContainers") or []:
        for name, value in ((c.get("resources") or {}).get("requests") or {}).items():
            total[name] = max(total.get(name, 0), to_units(name, value))
    for name, value in (spec.get("overhead") or {}).items():
        total[name] = total.get(name, 0) + to_units(name, value)
    return total


def pod_nonzero_requests(pod: dict) -> tuple[int, int]:
    """(milli cpu, memory) for scoring, with defaults for containers that ask for nothing."""
    cpu = mem = 0
    for c in (pod.get("spec") or {}).get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += to_units("cpu", req["cpu"]) if "cpu" in req else DEFAULT_MILLI_CPU
        mem += to_units("memory", req["memory"]) if "memory" in req else DEFAULT_MEMORY
    overhead = (pod.get("spec") or {}).get("overhead") or {}  # scored with the pod, as upstream
    cpu += to_units("cpu", overhead["cpu"]) if "cpu" in overhead else 0
    mem += to_units("memory", overhead["memory"]) if "memory" in overhead else 0
    return cpu, mem


def pod_host_ports(pod: dict) -> list[tuple[str, str, int]]:
    ports = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                ports.append((p.get("protocol") or "TCP", p.get("hostIP") or "0.0.0.0", int(p["hostPort"])))
    return ports


def ports_conflict(wanted: list[tuple[str, str, int]], used: dict[tuple[str, str, int], int]) -> bool:
    for proto, ip, port in wanted:
        for (uproto, uip, uport) in used:
            if uproto == proto and uport == port and (ip == uip or "0.0.0.0" in (ip, uip)):
                return True
    return False


@dataclass
class PodUsage:
    node: str
    requests: dict[str, int]
    nonzero: tuple[int, int]
    ports: list[tuple[str, str, int]]
    namespace: str = ""
    labels: dict = field(default_factory=dict)
    anti_affinity: list = field(default_factory=list)  # its required pod anti-affinity terms


@dataclass
class NodeInfo:
    node: dict
    allocatable: dict[str, int] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)
    nonzero_cpu: int = 0
    nonzero_mem: int = 0
    pod_count: int = 0
    ports: dict[tuple[str, str, int], int] = field(default_factory=dict)
    taints: list[dict] = field(default_factory=list)  # effective_taints(node), kept with the node
    # PodFit's node-only filters' answers for this node object, by the pod's constraints
    placement: dict[bytes, tuple | None] = field(default_factory=dict)
    alloc_cpu: int = 0  # allocatable["cpu"], ["memory"] (set_node)
    alloc_mem: int = 0

    def set_node(self, node: dict) -> None:
        self.node = node
        self.placement.clear()
        self.taints = effective_taints(node)
        status = node.get("status") or {}
        alloc = status.get("allocatable") or status.get("capacity") or {}
        self.allocatable = {k: to_units(k, v) for k, v in alloc.items()}
        # read for every node scored: plain attributes rather than two dict lookups each time
        self.alloc_cpu, self.alloc_mem = self.allocatable.get("cpu", 0), self.allocatable.get("memory", 0)

    def add(self, usage: PodUsage, sign: int = 1) -> None:
        for k, v in usage.requests.items():
            self.requested[k] = self.requested.get(k, 0) + sign * v
        self.nonzero_cpu += sign * usage.nonzero[0]
        self.nonzero_mem += sign * usage.nonzero[1]
        self.pod_count += sign
        for p in usage.ports:
            n = self.ports.get(p, 0) + sign
            if n > 0:
                self.ports[p] = n
            else:
                self.ports.pop(p, None)


class ClusterState:
    """Nodes and what the (bound or assumed) pods on them use."""

    def __init__(self):
        self.nodes: dict[str, NodeInfo] = {}
        self.usage: dict[str, PodUsage] = {}  # pod key -> what it takes where
        self.with_anti_affinity = 0  # placed pods with required anti-affinity (0: skip that check)
        self._names: list[str] | None = None  # list(self.nodes), kept until a node comes or goes

    def node_names(self) -> list[str]:
        """The nodes' names in a stable order (do not modify): every decision walks it."""
        if self._names is None:
            self._names = list(self.nodes)
        return self._names

    def set_node(self, node: dict) -> None:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is None:
            info = self.nodes[name] = NodeInfo(node)
            self._names = None
            for key, usage in self.usage.items():
                if usage.node == name:
                    info.add(usage)
        info.set_node(node)

    def remove_node(self, name: str) -> None:
        if self.nodes.pop(name, None) is not None:
            self._names = None

    def add_pod(self, key: str, pod: dict, node: str) -> None:
        """Count the pod against `node` (idempotent: re-adding moves it)."""
        self.remove_pod(key)
        anti = (((pod.get("spec") or {}).get("affinity") or {}).get("podAntiAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution") or []
        usage = PodUsage(node, pod_requests(pod), pod_nonzero_requests(pod), pod_host_ports(pod),
                         pod["metadata"].get("namespace", ""), dict(pod["metadata"].get("labels") or {}), anti)
        self.usage[key] = usage
        self.with_anti_affinity += bool(anti)
        if node in self.nodes:
            self.nodes[node].add(usage)

    def remove_pod(self, key: str) -> None:
        usage = self.usage.pop(key, None)
        if usage:
            self.with_anti_affinity -= bool(usage.anti_affinity)
        if usage and usage.node in self.nodes:
            self.nodes[usage.node].add(usage, -1)
