"""autoscaling/v1 HorizontalPodAutoscalers, served from the stored autoscaling/v2
objects (hpa_v1_conversion.py): v1's defaults (minReplicas 1), then v2's once
converted, v2's validation, the same table."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at

from .horizontalpodautoscalers import HorizontalPodAutoscalerStrategy
from .hpa_v1_conversion import from_v1, to_v1
from .workload_rules import default


class HorizontalPodAutoscalerV1Strategy(HorizontalPodAutoscalerStrategy):
    serves = (("autoscaling", "v1", "horizontalpodautoscalers"),)
    converts = True

    def defaults(self, obj: dict) -> None:
        default(dict_at(obj, "spec"), "minReplicas", 1)

    def validate(self, obj: dict) -> list[Cause]:
        return super().validate(from_v1(obj))

    def to_storage(self, obj: dict) -> dict:
        v2 = from_v1(obj)
        HorizontalPodAutoscalerStrategy.defaults(self, v2)
        return v2

    def from_storage(self, obj: dict) -> dict:
        return to_v1(obj)

    def cells(self, obj: dict, now: datetime) -> list:
        return super().cells(from_v1(obj), now)
