"""autoscaling/v2 HorizontalPodAutoscalers, stored and served (the controller
comes with the metrics work): minReplicas 1 and an 80% CPU target by default,
the replica bounds in upstream's words, /status and the hpa table."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy

from .workload_rules import default
from apiserver.registry.validation import field

_SPEC, _STATUS = "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus"


def _behavior_defaults(behavior: dict) -> None:
    up, down = behavior.get("scaleUp"), behavior.get("scaleDown")
    if isinstance(up, dict):
        default(up, "stabilizationWindowSeconds", 0)
        default(up, "selectPolicy", "Max")
        up.setdefault("policies", [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                   {"type": "Percent", "value": 100, "periodSeconds": 15}])
    if isinstance(down, dict):
        default(down, "stabilizationWindowSeconds", 300)
        default(down, "selectPolicy", "Max")
        default(down, "policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])
def _target(metric: dict, current: dict | None) -> str:
    kind = metric.get("type")
    src = metric.get(_SOURCE.get(kind, "")) or {}
    target = src.get("target") or {}
    cur = ((current or {}).get(_SOURCE.get(kind, "")) or {}).get("current") or {}
    name = (src.get("metric") or {}).get("name") or src.get("name") or ""
    if target.get("type") == "Utilization":
        have = f"{cur['averageUtilization']}%" if cur.get("averageUtilization") is not None else "<unknown>"
        return f"{name}: {have}/{target.get('averageUtilization')}%"
    want = target.get("averageValue") or target.get("value") or ""
    have = cur.get("averageValue") or cur.get("value") or "<unknown>"
    return f"{name}: {have}/{want}" + (" (avg)" if target.get("type") == "AverageValue" and kind != "Resource" else "")


_SOURCE = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods", "Object": "object",
           "External": "external"}


class HorizontalPodAutoscalerStrategy(Strategy):
    serves = (("autoscaling", "horizontalpodautoscalers"),)

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"currentReplicas": 0, "desiredReplicas": 0}  # upstream's empty status: a struct, its counts not omitempty

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        default(spec, "minReplicas", 1)
        if not spec.get("metrics"):
            spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": 80}}}]
        if isinstance(spec.get("behavior"), dict):
            _behavior_defaults(spec["behavior"])

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        ref = spec.get("scaleTargetRef") or {}
        for key in ("kind", "name"):
            if not ref.get(key):
                causes.append(field.required(f"spec.scaleTargetRef.{key}", ""))
        lo, hi = spec.get("minReplicas"), spec.get("maxReplicas")
        if isinstance(lo, int) and lo < 1:
            causes.append(field.invalid("spec.minReplicas", lo, "must be greater than or equal to 1"))
        if isinstance(hi, int) and isinstance(lo, int) and hi < lo:
            causes.append(field.invalid("spec.maxReplicas", hi, "must be greater than or equal to `minReplicas`"))
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Reference", doc(_SPEC, "scaleTargetRef")),
                col("Targets", doc(_SPEC, "metrics")), col("MinPods", doc(_SPEC, "minReplicas"), "integer"),
                col("MaxPods", doc(_SPEC, "maxReplicas"), "integer"),
                col("Replicas", doc(_STATUS, "currentReplicas"), "integer"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        ref = spec.get("scaleTargetRef") or {}
        current = status.get("currentMetrics") or []
        targets = [_target(m, current[i] if i < len(current) else None) for i, m in enumerate(spec.get("metrics") or [])]
        shown = ", ".join(targets[:2]) + (f" + {len(targets) - 2} more..." if len(targets) > 2 else "")
        return [name_of(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", shown or "<none>",
                int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 0),
                int(status.get("currentReplicas") or 0), age_of(obj, now)]
