"""PriorityClasses (scheduling.k8s.io/v1): the value a pod's priorityClassName
stands for. Validated as upstream: `system-` names are reserved for the two
built-in classes (created at start-up, bootstrap.py), user values stop at one
billion, value and preemptionPolicy never change."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

GROUP = "scheduling.k8s.io"
SYSTEM_PREFIX = "system-"
HIGHEST_USER_DEFINABLE = 1_000_000_000
# The built-in classes: name -> value (upstream's SystemCriticalPriority and +1000).
SYSTEM_CLASSES = {"system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000}
PREEMPTION_POLICIES = ("Never", "PreemptLowerPriority")
_DEF = "io.k8s.api.scheduling.v1.PriorityClass"


def system_priority_classes() -> list[dict]:
    """The objects a fresh cluster has (bootstrap.ensure_defaults creates them)."""
    why = {"system-cluster-critical": "for critical system pods that may move to another node",
           "system-node-critical": "for critical system pods that must stay on their node"}
    return [{"apiVersion": f"{GROUP}/v1", "kind": "PriorityClass", "metadata": {"name": name},
             "value": value, "description": f"The priority {why[name]}.",
             "preemptionPolicy": "PreemptLowerPriority"} for name, value in SYSTEM_CLASSES.items()]


class PriorityClassStrategy(Strategy):
    serves = ((GROUP, "priorityclasses"),)
    has_spec = False

    def defaults(self, obj: dict) -> None:
        obj.setdefault("preemptionPolicy", "PreemptLowerPriority")

    def validate(self, obj: dict) -> list[Cause]:
        name = (obj.get("metadata") or {}).get("name") or ""
        value = obj.get("value")
        causes: list[Cause] = []
        if name.startswith(SYSTEM_PREFIX):
            if SYSTEM_CLASSES.get(name) != value or obj.get("globalDefault"):
                why = (f"name {name} is not a known system priority class" if name not in SYSTEM_CLASSES else
                       f"value or globalDefault of system priority class {name} is not the built-in one")
                causes.append(field.forbidden("metadata.name", f"priority class names with '{SYSTEM_PREFIX}' "
                                              f"prefix are reserved for system use only. error: {why}"))
        elif isinstance(value, int) and value > HIGHEST_USER_DEFINABLE:
            causes.append(field.forbidden("value", "maximum allowed value of a user defined priority is "
                                          f"{HIGHEST_USER_DEFINABLE}"))
        return causes + field.supported("preemptionPolicy", obj.get("preemptionPolicy"), PREEMPTION_POLICIES)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        causes: list[Cause] = []
        if new.get("value") != old.get("value"):
            causes.append(field.forbidden("value", "may not be changed in an update."))
        if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
            causes.append(field.immutable("preemptionPolicy", new.get("preemptionPolicy")))
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Value", doc(_DEF, "value"), "integer"),
                col("Global-Default", doc(_DEF, "globalDefault"), "boolean"), age_column(),
                col("PreemptionPolicy", doc(_DEF, "preemptionPolicy"))]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), obj.get("value"), bool(obj.get("globalDefault")), age_of(obj, now),
                obj.get("preemptionPolicy") or ""]
