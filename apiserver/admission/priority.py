"""Priority: a pod's priorityClassName resolved into spec.priority and
spec.preemptionPolicy (the global default class, or 0, when it names none);
an unknown class refused. For PriorityClasses: only one global default, and
the two system classes can never be deleted."""
from __future__ import annotations

from apiserver.machinery.errors import StatusError
from apiserver.registry.attributes import Attributes

from .plugin import Plugin, forbidden, is_pod

GROUP = "scheduling.k8s.io"
SYSTEM_CLASSES = ("system-node-critical", "system-cluster-critical")
DEFAULT_PRIORITY = 0  # scheduling.DefaultPriorityWhenNoDefaultClassExists
DEFAULT_PREEMPTION = "PreemptLowerPriority"


def default_class(classes: list[dict]) -> dict | None:
    """The global default with the highest value (upstream's getDefaultPriorityClass)."""
    defaults = [c for c in classes if c.get("globalDefault")]
    return max(defaults, key=lambda c: c.get("value", 0), default=None)


class Priority(Plugin):
    name = "Priority"
    mutating = True
    validating = True

    async def admit(self, attrs: Attributes) -> None:
        r = attrs.resource
        if (r.group, r.plural) == (GROUP, "priorityclasses") and attrs.operation == "DELETE":
            if attrs.name in SYSTEM_CLASSES:
                raise StatusError(403, "Forbidden", f'priorityclasses.{GROUP} "{attrs.name}" is forbidden: '
                                  "this is a system priority class and cannot be deleted",
                                  name=attrs.name, group=GROUP, kind="priorityclasses")
            return
        if attrs.operation != "CREATE" or not is_pod(attrs) or not isinstance(attrs.object, dict):
            return
        spec = attrs.object.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        class_name = spec.get("priorityClassName") or ""
        if class_name:
            pc = await self.get(GROUP, "priorityclasses", "", class_name)
            if pc is None:
                raise forbidden(attrs, f"no PriorityClass with name {class_name} was found")
        else:
            pc = default_class(await self.list(GROUP, "priorityclasses", ""))
            if pc is not None:
                spec["priorityClassName"] = (pc.get("metadata") or {}).get("name", "")
        value = pc.get("value", 0) if pc is not None else DEFAULT_PRIORITY
        policy = (pc or {}).get("preemptionPolicy") or DEFAULT_PREEMPTION
        given = spec.get("priority")
        if given is not None and given != value:
            raise forbidden(attrs, f"the integer value of priority ({given}) must not be provided in pod spec; "
                                   f"priority admission controller computed {value} from the given PriorityClass name")
        given_policy = spec.get("preemptionPolicy")
        if given_policy is not None and given_policy != policy:
            raise forbidden(attrs, f"the string value of PreemptionPolicy ({given_policy}) must not be provided in "
                                   f"pod spec; priority admission controller computed {policy} from the given "
                                   "PriorityClass name")
        spec["priority"] = value
        spec["preemptionPolicy"] = policy

    async def validate(self, attrs: Attributes) -> None:
        r = attrs.resource
        if (r.group, r.plural) != (GROUP, "priorityclasses") or attrs.operation not in ("CREATE", "UPDATE"):
            return
        obj = attrs.object if isinstance(attrs.object, dict) else {}
        if not obj.get("globalDefault"):
            return
        name = (obj.get("metadata") or {}).get("name", "")
        for other in await self.list(GROUP, "priorityclasses", ""):
            other_name = (other.get("metadata") or {}).get("name", "")
            if other.get("globalDefault") and other_name != name:
                raise forbidden(attrs, f"PriorityClass {other_name} is already marked as default. "
                                       "Only one default can exist")
