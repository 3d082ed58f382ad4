"""PriorityClasses (scheduling.k8s.io/v1): names with the `system-` prefix are
the two built-ins only; users stay at or below one billion; value and
preemption policy are fixed once created."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

DEF = "io.k8s.api.scheduling.v1.PriorityClass"
SYSTEM_PREFIX = "system-"
HIGHEST_USER_PRIORITY = 1_000_000_000
PREEMPTION_POLICIES = ("Never", "PreemptLowerPriority")
# name -> (value, description): upstream's SystemPriorityClasses()
SYSTEM_CLASSES = {
    "system-node-critical": (2_000_001_000, "Used for system critical pods that must not be moved from their current node."),
    "system-cluster-critical": (2_000_000_000, "Used for system critical pods that must run in the cluster, "
                                               "but can be moved to another node if necessary."),
}


def system_class_error(name: str, value, global_default) -> str:
    """IsKnownSystemPriorityClass's error ('' when the class is the built-in one)."""
    if name not in SYSTEM_CLASSES:
        return f"{name} is not a known system priority class"
    if value != SYSTEM_CLASSES[name][0]:
        return f"value of {name} PriorityClass must be {SYSTEM_CLASSES[name][0]}"
    if global_default:
        return f"globalDefault of {name} PriorityClass must be false"
    return ""


def system_priority_classes() -> list[dict]:
    return [{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
             "value": value, "description": description, "preemptionPolicy": "PreemptLowerPriority"}
            for name, (value, description) in SYSTEM_CLASSES.items()]


class PriorityClassStrategy(Strategy):
    serves = (("scheduling.k8s.io", "priorityclasses"),)
    has_spec = False

    def defaults(self, obj: dict) -> None:
        obj.setdefault("preemptionPolicy", "PreemptLowerPriority")

    def validate(self, obj: dict) -> list[Cause]:
        name = (obj.get("metadata") or {}).get("name") or ""
        value = obj.get("value")
        causes: list[Cause] = []
        if name.startswith(SYSTEM_PREFIX):
            err = system_class_error(name, value, obj.get("globalDefault"))
            if err:
                causes.append(field.forbidden("metadata.name", f"priority class names with '{SYSTEM_PREFIX}' prefix "
                                                               f"are reserved for system use only. error: {err}"))
        elif isinstance(value, int) and value > HIGHEST_USER_PRIORITY:
            causes.append(field.forbidden("value", f"maximum allowed value of a user defined priority is "
                                                   f"{HIGHEST_USER_PRIORITY}"))
        return causes + field.supported("preemptionPolicy", obj.get("preemptionPolicy"), PREEMPTION_POLICIES)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        causes: list[Cause] = []
        if new.get("value") != old.get("value"):
            causes.append(field.forbidden("value", "may not be changed in an update."))
        if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
            causes.append(field.immutable("preemptionPolicy", new.get("preemptionPolicy")))
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Value", doc(DEF, "value"), "integer"),
                col("Global-Default", doc(DEF, "globalDefault"), "boolean"), age_column(),
                col("PreemptionPolicy", doc(DEF, "preemptionPolicy"))]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), obj.get("value", 0), bool(obj.get("globalDefault")), age_of(obj, now),
                obj.get("preemptionPolicy") or ""]
