"""ResourceQuotas: hard limits must be quantities of qualified names, scopes
from upstream's list; the table shows used/hard per resource."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field, quantities

QUOTA_SCOPES = ("BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass",
                "Terminating")


class ResourceQuotaStrategy(Strategy):
    serves = (("", "resourcequotas"),)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        for name in spec.get("hard") or {}:
            causes += field.each_invalid(field.key("spec.hard", name), name, names.is_qualified_name(name))
        causes += quantities.validate_resource_list(spec.get("hard"), "spec.hard")
        for i, s in enumerate(spec.get("scopes") or []):
            causes += field.supported(field.index("spec.scopes", i), s, QUOTA_SCOPES)
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), age_column(),
                col("Request", "Request represents a minimum amount of cpu/memory that a container may consume."),
                col("Limit", "Limits control the maximum amount of cpu/memory that a container may use independent "
                             "of contention on the node.")]

    def cells(self, obj: dict, now: datetime) -> list:
        status = obj.get("status") or {}
        hard, used = status.get("hard") or {}, status.get("used") or {}
        requests, limits = [], []
        for name in sorted(hard):
            target = limits if name.split(".")[0] == "limits" and "." in name else requests
            target.append(f"{name}: {used.get(name, '0')}/{hard[name]}")
        return [name_of(obj), age_of(obj, now), ", ".join(requests), ", ".join(limits)]
