"""flowcontrol.apiserver.k8s.io/v1 FlowSchemas and PriorityLevelConfigurations:
stored, defaulted and validated as upstream, with /status; the bootstrap
configuration (config.py) is put in place at start (assembly/bootstrap.py).
Request classification and queuing are not done here."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.strategy import Strategy

from ..workload_rules import default
from .validation import validate_flow_schema, validate_priority_level


class FlowSchemaStrategy(Strategy):
    serves = (("flowcontrol.apiserver.k8s.io", "flowschemas"),)

    def defaults(self, obj: dict) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict) and not spec.get("matchingPrecedence"):
            spec["matchingPrecedence"] = 1000

    def validate(self, obj: dict) -> list[Cause]:
        return validate_flow_schema(obj)

    def columns(self) -> list[dict]:
        return [name_column(), col("PriorityLevel", "the priority level of matching requests"),
                col("MatchingPrecedence", "lower numbers are evaluated first", "integer"),
                col("DistinguisherMethod", "how flows are told apart"), age_column(),
                col("MissingPL", "whether the priority level does not exist")]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        method = (spec.get("distinguisherMethod") or {}).get("type") or "<none>"
        dangling = next((c.get("status") for c in (obj.get("status") or {}).get("conditions") or []
                         if c.get("type") == "Dangling"), "?")
        return [name_of(obj), (spec.get("priorityLevelConfiguration") or {}).get("name") or "",
                spec.get("matchingPrecedence") or 0, method, age_of(obj, now), dangling]


class PriorityLevelConfigurationStrategy(Strategy):
    serves = (("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),)

    def defaults(self, obj: dict) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        if isinstance(spec.get("exempt"), dict):
            default(spec["exempt"], "nominalConcurrencyShares", 0)
            default(spec["exempt"], "lendablePercent", 0)
        elif spec.get("type") == "Exempt" and "exempt" not in spec:
            spec["exempt"] = {"nominalConcurrencyShares": 0, "lendablePercent": 0}
        limited = spec.get("limited")
        if isinstance(limited, dict):
            default(limited, "nominalConcurrencyShares", 30)
            default(limited, "lendablePercent", 0)
            queuing = (limited.get("limitResponse") or {}).get("queuing")
            if isinstance(queuing, dict):
                for key, value in (("handSize", 8), ("queueLengthLimit", 50), ("queues", 64)):
                    if not queuing.get(key):
                        queuing[key] = value

    def validate(self, obj: dict) -> list[Cause]:
        return validate_priority_level(obj)

    def columns(self) -> list[dict]:
        return [name_column(), col("Type", "Exempt or Limited"),
                col("NominalConcurrencyShares", "the share of the server's concurrency", "string"),
                col("Queues", "queues of the priority level", "string"),
                col("HandSize", "the shuffle-sharding hand size", "string"),
                col("QueueLengthLimit", "requests a queue may hold", "string"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        limited = spec.get("limited") if isinstance(spec.get("limited"), dict) else None
        if limited is None:
            return [name_of(obj), spec.get("type") or "", "<none>", "<none>", "<none>", "<none>", age_of(obj, now)]
        queuing = (limited.get("limitResponse") or {}).get("queuing") or {}
        show = (lambda k: str(queuing[k]) if k in queuing else "<none>")
        return [name_of(obj), spec.get("type") or "", str(limited.get("nominalConcurrencyShares", 0)),
                show("queues"), show("handSize"), show("queueLengthLimit"), age_of(obj, now)]
