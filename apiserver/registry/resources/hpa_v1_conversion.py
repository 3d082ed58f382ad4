"""autoscaling/v1 HorizontalPodAutoscalers <-> the stored autoscaling/v2 form (pure).

As upstream converts them: v1's targetCPUUtilizationPercentage is the first
Resource/cpu/Utilization metric; every other metric, the current metrics, the
conditions and the behavior travel in `autoscaling.alpha.kubernetes.io/*`
annotations, in v1's own metric shapes, so an object read and written back
through v1 loses nothing.
"""
from __future__ import annotations

import copy
import json

METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
ANNOTATIONS = (METRICS, CURRENT_METRICS, CONDITIONS, BEHAVIOR)

_SOURCE = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
           "Object": "object", "External": "external"}


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None and v != {}}


def _is_cpu_utilization(m: dict) -> bool:
    res = m.get("resource") or {}
    return (m.get("type") == "Resource" and res.get("name") == "cpu"
            and (res.get("target") or {}).get("type") == "Utilization")


# --- metric specs -------------------------------------------------------------
def spec_to_v1(m: dict) -> dict:
    kind = m.get("type")
    src = m.get(_SOURCE.get(kind, "")) or {}
    target = src.get("target") or {}
    metric = src.get("metric") or {}
    if kind in ("Resource", "ContainerResource"):
        out = {"name": src.get("name"), "container": src.get("container") if kind == "ContainerResource" else None,
               "targetAverageUtilization": target.get("averageUtilization"),
               "targetAverageValue": target.get("averageValue")}
    elif kind == "Pods":
        out = {"metricName": metric.get("name"), "selector": metric.get("selector"),
               "targetAverageValue": target.get("averageValue")}
    elif kind == "Object":
        out = {"target": src.get("describedObject"), "metricName": metric.get("name"),
               "selector": metric.get("selector"), "targetValue": target.get("value"),
               "averageValue": target.get("averageValue")}
    elif kind == "External":
        out = {"metricName": metric.get("name"), "metricSelector": metric.get("selector"),
               "targetValue": target.get("value"), "targetAverageValue": target.get("averageValue")}
    else:
        return copy.deepcopy(m)
    return {"type": kind, _SOURCE[kind]: _drop_none(out)}


def _target(utilization=None, average=None, value=None) -> dict:
    if utilization is not None:
        return {"type": "Utilization", "averageUtilization": utilization}
    if average is not None:
        return {"type": "AverageValue", "averageValue": average}
    return _drop_none({"type": "Value", "value": value})


def spec_from_v1(m: dict) -> dict:
    kind = m.get("type")
    src = m.get(_SOURCE.get(kind, "")) or {}
    if kind in ("Resource", "ContainerResource"):
        out = {"name": src.get("name"), "container": src.get("container") if kind == "ContainerResource" else None,
               "target": _target(src.get("targetAverageUtilization"), src.get("targetAverageValue"))}
    elif kind == "Pods":
        out = {"metric": _drop_none({"name": src.get("metricName"), "selector": src.get("selector")}),
               "target": _target(average=src.get("targetAverageValue"))}
    elif kind == "Object":
        out = {"describedObject": src.get("target"),
               "metric": _drop_none({"name": src.get("metricName"), "selector": src.get("selector")}),
               "target": _target(average=src.get("averageValue"), value=src.get("targetValue"))}
    elif kind == "External":
        out = {"metric": _drop_none({"name": src.get("metricName"), "selector": src.get("metricSelector")}),
               "target": _target(average=src.get("targetAverageValue"), value=src.get("targetValue"))}
    else:
        return copy.deepcopy(m)
    return {"type": kind, _SOURCE[kind]: _drop_none(out)}


# --- metric statuses ----------------------------------------------------------
def status_to_v1(m: dict) -> dict:
    kind = m.get("type")
    src = m.get(_SOURCE.get(kind, "")) or {}
    cur = src.get("current") or {}
    metric = src.get("metric") or {}
    if kind in ("Resource", "ContainerResource"):
        out = {"name": src.get("name"), "container": src.get("container") if kind == "ContainerResource" else None,
               "currentAverageUtilization": cur.get("averageUtilization"),
               "currentAverageValue": cur.get("averageValue")}
    elif kind == "Pods":
        out = {"metricName": metric.get("name"), "selector": metric.get("selector"),
               "currentAverageValue": cur.get("averageValue")}
    elif kind == "Object":
        out = {"target": src.get("describedObject"), "metricName": metric.get("name"),
               "selector": metric.get("selector"), "currentValue": cur.get("value"),
               "averageValue": cur.get("averageValue")}
    elif kind == "External":
        out = {"metricName": metric.get("name"), "metricSelector": metric.get("selector"),
               "currentValue": cur.get("value"), "currentAverageValue": cur.get("averageValue")}
    else:
        return copy.deepcopy(m)
    return {"type": kind, _SOURCE[kind]: _drop_none(out)}


def status_from_v1(m: dict) -> dict:
    kind = m.get("type")
    src = m.get(_SOURCE.get(kind, "")) or {}
    if kind in ("Resource", "ContainerResource"):
        out = {"name": src.get("name"), "container": src.get("container") if kind == "ContainerResource" else None,
               "current": _drop_none({"averageUtilization": src.get("currentAverageUtilization"),
                                      "averageValue": src.get("currentAverageValue")})}
    elif kind == "Pods":
        out = {"metric": _drop_none({"name": src.get("metricName"), "selector": src.get("selector")}),
               "current": _drop_none({"averageValue": src.get("currentAverageValue")})}
    elif kind == "Object":
        out = {"describedObject": src.get("target"),
               "metric": _drop_none({"name": src.get("metricName"), "selector": src.get("selector")}),
               "current": _drop_none({"value": src.get("currentValue"), "averageValue": src.get("averageValue")})}
    elif kind == "External":
        out = {"metric": _drop_none({"name": src.get("metricName"), "selector": src.get("metricSelector")}),
               "current": _drop_none({"value": src.get("currentValue"),
                                      "averageValue": src.get("currentAverageValue")})}
    else:
        return copy.deepcopy(m)
    return {"type": kind, _SOURCE[kind]: _drop_none(out)}


# --- whole objects ------------------------------------------------------------
def _dump(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def _load(annotations: dict, key: str):
    raw = annotations.pop(key, None)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def to_v1(v2: dict) -> dict:
    out = copy.deepcopy(v2)
    out["apiVersion"] = "autoscaling/v1"
    meta = out.setdefault("metadata", {})
    ann = dict(meta.get("annotations") or {})
    for k in ANNOTATIONS:
        ann.pop(k, None)
    spec = out.get("spec") or {}
    metrics = spec.pop("metrics", None) or []
    cpu = next((m for m in metrics if _is_cpu_utilization(m)), None)
    if cpu is not None:
        spec["targetCPUUtilizationPercentage"] = cpu["resource"]["target"].get("averageUtilization")
    others = [spec_to_v1(m) for m in metrics if m is not cpu]
    if others:
        ann[METRICS] = _dump(others)
    behavior = spec.pop("behavior", None)
    if behavior:
        ann[BEHAVIOR] = _dump(behavior)
    status = out.get("status")
    if isinstance(status, dict):
        current = status.pop("currentMetrics", None) or []
        cur_cpu = next((m for m in current if m.get("type") == "Resource"
                        and (m.get("resource") or {}).get("name") == "cpu"
                        and ((m.get("resource") or {}).get("current") or {}).get("averageUtilization") is not None),
                       None)
        if cur_cpu is not None:
            status["currentCPUUtilizationPercentage"] = cur_cpu["resource"]["current"]["averageUtilization"]
        rest = [status_to_v1(m) for m in current if m is not cur_cpu]
        if rest:
            ann[CURRENT_METRICS] = _dump(rest)
        conditions = status.pop("conditions", None)
        if conditions:
            ann[CONDITIONS] = _dump(conditions)
    if ann:
        meta["annotations"] = ann
    else:
        meta.pop("annotations", None)
    return out


def from_v1(v1: dict) -> dict:
    out = copy.deepcopy(v1)
    out["apiVersion"] = "autoscaling/v2"
    meta = out.setdefault("metadata", {})
    ann = dict(meta.get("annotations") or {})
    spec = out.setdefault("spec", {})
    metrics = []
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": target}}})
    metrics += [spec_from_v1(m) for m in (_load(ann, METRICS) or []) if isinstance(m, dict)]
    if metrics:
        spec["metrics"] = metrics
    behavior = _load(ann, BEHAVIOR)
    if isinstance(behavior, dict):
        spec["behavior"] = behavior
    status = out.get("status")
    current = []
    if isinstance(status, dict):
        cpu = status.pop("currentCPUUtilizationPercentage", None)
        if cpu is not None:
            current.append({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cpu}}})
    current += [status_from_v1(m) for m in (_load(ann, CURRENT_METRICS) or []) if isinstance(m, dict)]
    conditions = _load(ann, CONDITIONS)
    if current or conditions:
        status = out.setdefault("status", {})
        if current:
            status["currentMetrics"] = current
        if isinstance(conditions, list) and conditions:
            status["conditions"] = conditions
    if ann:
        meta["annotations"] = ann
    else:
        meta.pop("annotations", None)
    return out
