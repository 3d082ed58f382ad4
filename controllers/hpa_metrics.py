"""What one autoscaling/v2 metric of an HPA says: the ratio of current to target use,
the pods counted, and its status.currentMetrics entry.

`Resource` (the pods' total use of cpu or memory against their requests) and
`ContainerResource` (one named container's) come from metrics.k8s.io. `Pods`,
`Object` and `External` need the custom and external metrics APIs, which this
cluster does not serve: they are reported as such (upstream's FailedGet*Metric).
"""
from __future__ import annotations

from kubeclient.quantity import parse_quantity

SUPPORTED = ("Resource", "ContainerResource")


class Usage:
    """metrics.k8s.io PodMetrics by pod name: the pods' totals and each container's."""

    def __init__(self, items: list[dict]):
        self.pods: dict[str, dict[str, float]] = {}
        self.containers: dict[str, dict[str, dict[str, float]]] = {}
        for item in items:
            name = item["metadata"]["name"]
            sums: dict[str, float] = {}
            per: dict[str, dict[str, float]] = {}
            for c in item.get("containers") or []:
                use = {k: float(parse_quantity(v)) for k, v in (c.get("usage") or {}).items()}
                per[c.get("name", "")] = use
                for k, v in use.items():
                    sums[k] = sums.get(k, 0.0) + v
            self.pods[name], self.containers[name] = sums, per


def _request(container: dict, name: str) -> float:
    return float(parse_quantity(((container.get("resources") or {}).get("requests") or {}).get(name, 0)))


def _quantity(name: str, value: float) -> str:
    return f"{int(round(value * 1000))}m" if name == "cpu" else str(int(round(value)))


def _ratio(name: str, target: dict, samples: list[tuple[float, float]]) -> tuple[float, int, dict] | None:
    """samples: (use, request) per pod with metrics -> (ratio, pods counted, `current`)."""
    if not samples:
        return None
    used = sum(u for u, _ in samples)
    if target.get("type") == "Utilization" or "averageUtilization" in target:
        requested = sum(r for _, r in samples)
        if requested <= 0:
            return None
        utilization = int(round(used / requested * 100))
        current = {"averageUtilization": utilization, "averageValue": _quantity(name, used / len(samples))}
        return utilization / float(target.get("averageUtilization") or 80), len(samples), current
    wanted = float(parse_quantity(target.get("averageValue") or 0))
    if wanted <= 0:
        return None
    average = used / len(samples)
    return average / wanted, len(samples), {"averageValue": _quantity(name, average)}


def resource_ratio(metric: dict, pods: list[dict], usage: dict[str, dict]) -> tuple[float, int, dict] | None:
    """A Resource metric; `usage`: pod name -> {resource: total use} (Usage.pods)."""
    res = metric.get("resource") or {}
    name = res.get("name")
    samples = [(usage[p["metadata"]["name"]][name], sum(_request(c, name) for c in p["spec"].get("containers") or []))
               for p in pods if name in usage.get(p["metadata"]["name"], {})]
    got = _ratio(name, res.get("target") or {}, samples)
    if got is None:
        return None
    ratio, counted, current = got
    return ratio, counted, {"type": "Resource", "resource": {"name": name, "current": current}}


def container_ratio(metric: dict, pods: list[dict], usage: Usage) -> tuple[float, int, dict] | None:
    """A ContainerResource metric: only the named container of each pod counts."""
    res = metric.get("containerResource") or {}
    name, container = res.get("name"), res.get("container")
    samples = []
    for p in pods:
        used = usage.containers.get(p["metadata"]["name"], {}).get(container, {})
        spec = next((c for c in p["spec"].get("containers") or [] if c.get("name") == container), None)
        if name in used and spec is not None:
            samples.append((used[name], _request(spec, name)))
    got = _ratio(name, res.get("target") or {}, samples)
    if got is None:
        return None
    ratio, counted, current = got
    return ratio, counted, {"type": "ContainerResource",
                            "containerResource": {"name": name, "container": container, "current": current}}


def ratio_of(metric: dict, pods: list[dict], usage: Usage) -> tuple[float, int, dict] | None:
    if metric.get("type") == "Resource":
        return resource_ratio(metric, pods, usage.pods)
    if metric.get("type") == "ContainerResource":
        return container_ratio(metric, pods, usage)
    return None


def unsupported(metric: dict) -> tuple[str, str] | None:
    """(reason, message) for a metric type this cluster cannot read, else None."""
    kind = metric.get("type", "")
    if kind in SUPPORTED:
        return None
    return (f"FailedGet{kind}Metric", f"the HPA was unable to compute the replica count: unable to get {kind} "
            "metric: the custom and external metrics APIs (custom.metrics.k8s.io, external.metrics.k8s.io) are "
            "not served by this cluster")
