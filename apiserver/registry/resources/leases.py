"""Leases (coordination.k8s.io): duration and transition rules; the table shows the holder."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field


class LeaseStrategy(Strategy):
    serves = (("coordination.k8s.io", "leases"),)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        d = spec.get("leaseDurationSeconds")
        if isinstance(d, int) and d <= 0:
            causes.append(field.invalid("spec.leaseDurationSeconds", d, "must be greater than 0"))
        return causes + field.non_negative("spec.leaseTransitions", spec.get("leaseTransitions"))

    def columns(self) -> list[dict]:
        return [name_column(), col("Holder", doc("io.k8s.api.coordination.v1.LeaseSpec", "holderIdentity")),
                age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), (obj.get("spec") or {}).get("holderIdentity") or "", age_of(obj, now)]
