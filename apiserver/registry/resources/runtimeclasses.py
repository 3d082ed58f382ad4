"""RuntimeClasses (node.k8s.io/v1): a handler (a DNS label, fixed once
created), pod overhead and scheduling constraints the RuntimeClass admission
plugin copies into pods."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import OBJECT_META, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field, meta, quantities

TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")


class RuntimeClassStrategy(Strategy):
    serves = (("node.k8s.io", "runtimeclasses"),)
    has_spec = False

    def validate(self, obj: dict) -> list[Cause]:
        causes: list[Cause] = []
        handler = obj.get("handler")
        if not handler:
            causes.append(field.required("handler", ""))
        elif isinstance(handler, str):
            causes += field.each_invalid("handler", handler, names.is_dns1123_label(handler))
        overhead = (obj.get("overhead") or {}).get("podFixed")
        causes += quantities.validate_resource_list(overhead, "overhead.podFixed")
        scheduling = obj.get("scheduling") or {}
        if isinstance(scheduling, dict):
            causes += meta.validate_labels(scheduling.get("nodeSelector") or {}, "scheduling.nodeSelector")
            for i, t in enumerate(scheduling.get("tolerations") or []):
                if isinstance(t, dict):
                    causes += field.supported(field.child(field.index("scheduling.tolerations", i), "effect"),
                                              t.get("effect") or None, TAINT_EFFECTS)
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        if new.get("handler") != old.get("handler"):
            return [field.immutable("handler", new.get("handler"))]
        return []

    def columns(self) -> list[dict]:
        # upstream describes Handler with ObjectMeta's (absent) "handler" doc: an empty string
        return [name_column(), col("Handler", doc(OBJECT_META, "handler")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), obj.get("handler") or "", age_of(obj, now)]
