"""policy/v1 PodDisruptionBudgets: minAvailable or maxUnavailable (not both),
a status that starts at zero (its counts are not omitempty upstream), /status
and the pdb table. The eviction subresource reads it (pods/disruption_budgets.py)."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from . import workload_rules as rules

_SPEC, _STATUS = "io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "io.k8s.api.policy.v1.PodDisruptionBudgetStatus"


class PodDisruptionBudgetStrategy(Strategy):
    serves = (("policy", "poddisruptionbudgets"),)

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
            causes.append(field.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
        causes += rules.int_or_percent(spec.get("minAvailable"), "spec.minAvailable")[0]
        causes += rules.int_or_percent(spec.get("maxUnavailable"), "spec.maxUnavailable")[0]
        causes += rules.label_selector(spec.get("selector"), "spec.selector")
        causes += field.supported("spec.unhealthyPodEvictionPolicy", spec.get("unhealthyPodEvictionPolicy"),
                                  ["AlwaysAllow", "IfHealthyBudget"])
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Min Available", doc(_SPEC, "minAvailable")),
                col("Max Unavailable", doc(_SPEC, "maxUnavailable")),
                col("Allowed Disruptions", doc(_STATUS, "disruptionsAllowed"), "integer"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        show = lambda v: "N/A" if v is None else str(v)  # noqa: E731
        return [name_of(obj), show(spec.get("minAvailable")), show(spec.get("maxUnavailable")),
                int(status.get("disruptionsAllowed") or 0), age_of(obj, now)]
