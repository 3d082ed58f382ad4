"""Node-pressure eviction, the pure part (the kubelet's eviction helpers): hard
thresholds as `--eviction-hard` spells them, the memory signals, which
thresholds are met, the order victims are taken in, and what an evicted pod is
told. No I/O here; nodeagent/eviction.py runs it against the host.

Signals: `memory.available` is the node's capacity less the host's working
set; with node allocatable enforced on pods (the kubelet's default) the same
hard threshold also applies to `allocatableMemory.available`: what the pods
may use (capacity less --kube-reserved and --system-reserved) less what the
node's pods use. Other signals are accepted (nodefs, imagefs, pid) and not
acted on here."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kubeclient.quantity import parse_quantity

MEMORY_AVAILABLE = "memory.available"
ALLOCATABLE_MEMORY_AVAILABLE = "allocatableMemory.available"
SIGNALS = ("memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available",
           "imagefs.inodesFree", "containerfs.available", "containerfs.inodesFree", "pid.available")
DEFAULT_EVICTION_HARD = "memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%"

NODE_LOW = "The node was low on resource: {}. "
THRESHOLD_MET = "Threshold quantity: {}, available: {}. "
CONTAINER_OVER = "Container {} was using {}, request is {}, has larger consumption of {}. "


@dataclass(frozen=True)
class Threshold:
    signal: str
    text: str                   # as given ("100Mi", "10%"), for messages
    quantity: int | None = None  # bytes (or a count)
    percentage: Decimal | None = None

    def value(self, capacity: int) -> int:
        """The threshold in bytes against a capacity (a percentage is of it)."""
        if self.quantity is not None:
            return self.quantity
        return int(Decimal(capacity) * (self.percentage or 0) / 100)

    def quantity_text(self, capacity: int) -> str:
        return self.text if self.quantity is not None else format_bytes(self.value(capacity))


def parse_eviction_hard(text: str) -> list[Threshold]:
    """`memory.available<100Mi,nodefs.available<10%` -> thresholds; ValueError on a bad
    statement (the kubelet refuses to start on one too). An empty string: none."""
    out: list[Threshold] = []
    for statement in (s.strip() for s in text.split(",")):
        if not statement:
            continue
        signal, op, value = statement.partition("<")
        signal, value = signal.strip(), value.strip()
        if not op:
            raise ValueError(f"invalid eviction threshold syntax {statement!r}, expected <signal><operator><value>")
        if signal not in SIGNALS:
            raise ValueError(f"unsupported eviction signal {signal}")
        if value.endswith("%"):
            try:
                pct = Decimal(value[:-1])
            except ArithmeticError:
                raise ValueError(f"invalid percentage {value!r}") from None
            if not 0 <= pct <= 100:
                raise ValueError(f"eviction percentage threshold {signal} must be >= 0% and <= 100%: {value}")
            out.append(Threshold(signal, value, percentage=pct))
        else:
            try:
                q = int(parse_quantity(value))
            except (ValueError, ArithmeticError):
                raise ValueError(f"invalid eviction threshold value {value!r} for {signal}") from None
            if q < 0:
                raise ValueError(f"eviction threshold {signal} must be positive: {value}")
            out.append(Threshold(signal, value, quantity=q))
    return out


def with_allocatable(thresholds: list[Threshold]) -> list[Threshold]:
    """Node allocatable enforced on pods: memory.available's hard threshold applies to
    allocatableMemory.available too (upstream's addAllocatableThresholds)."""
    extra = [Threshold(ALLOCATABLE_MEMORY_AVAILABLE, t.text, t.quantity, t.percentage)
             for t in thresholds if t.signal == MEMORY_AVAILABLE]
    return list(thresholds) + extra


def parse_reserved(text: str) -> dict[str, str]:
    """`cpu=100m,memory=1Gi` (--kube-reserved, --system-reserved)."""
    out = {}
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ValueError(f"invalid reservation {item!r}, expected name=quantity")
        parse_quantity(value.strip())  # refuses what is not a quantity
        out[name.strip()] = value.strip()
    return out


def memory_bytes(reserved: dict[str, str]) -> int:
    return int(parse_quantity(reserved["memory"])) if "memory" in reserved else 0


def memory_observations(capacity: int, node_working_set: int, pods_capacity: int,
                        pods_working_set: int) -> dict[str, tuple[int, int]]:
    """signal -> (available, capacity) in bytes."""
    return {MEMORY_AVAILABLE: (capacity - node_working_set, capacity),
            ALLOCATABLE_MEMORY_AVAILABLE: (pods_capacity - pods_working_set, pods_capacity)}


def thresholds_met(thresholds: list[Threshold], observed: dict[str, tuple[int, int]]) -> list[Threshold]:
    met = []
    for t in thresholds:
        if t.signal in observed:
            available, capacity = observed[t.signal]
            if available < t.value(capacity):
                met.append(t)
    return met


def _memory_request(pod: dict, container: dict | None = None) -> int:
    containers = [container] if container is not None else (pod.get("spec") or {}).get("containers") or []
    total = 0
    for c in containers:
        value = ((c.get("resources") or {}).get("requests") or {}).get("memory")
        total += int(parse_quantity(value)) if value is not None else 0
    return total


def rank_for_memory(candidates: list[tuple[dict, int]]) -> list[tuple[dict, int]]:
    """(pod, working set) in the order the kubelet evicts under memory pressure: pods
    using more than they requested first, then lower priority, then the larger use
    beyond requests (upstream's rankMemoryPressure)."""
    def key(item):
        pod, usage = item
        request = _memory_request(pod)
        priority = int((pod.get("spec") or {}).get("priority") or 0)
        return (0 if usage > request else 1, priority, -(usage - request))
    return sorted(candidates, key=key)


def format_bytes(n: int) -> str:
    """A byte count as a binary quantity prints (resource.Quantity's canonical form)."""
    if n == 0:
        return "0"
    for suffix, size in (("Ei", 2 ** 60), ("Pi", 2 ** 50), ("Ti", 2 ** 40), ("Gi", 2 ** 30), ("Mi", 2 ** 20),
                         ("Ki", 2 ** 10)):
        if n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


def eviction_message(pod: dict, container_usage: dict[str, int], threshold: Threshold,
                     available: int, capacity: int) -> str:
    """What the evicted pod's status and event say (the kubelet's evictionMessage)."""
    message = NODE_LOW.format("memory")
    message += THRESHOLD_MET.format(threshold.quantity_text(capacity), format_bytes(available))
    for c in (pod.get("spec") or {}).get("containers") or []:
        usage = container_usage.get(c.get("name", ""))
        request = _memory_request(pod, c)
        if usage is not None and usage > request:
            message += CONTAINER_OVER.format(c["name"], format_bytes(usage), format_bytes(request), "memory")
    return message
