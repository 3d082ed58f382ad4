"""RuntimeClasses (node.k8s.io/v1): a name for a container runtime handler.
Validated as upstream (handler a DNS label, immutable); the node agent runs every
pod with Podman's default runtime, and no admission plugin checks a pod's
runtimeClassName yet."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

GROUP = "node.k8s.io"


class RuntimeClassStrategy(Strategy):
    serves = ((GROUP, "runtimeclasses"),)
    has_spec = False

    def validate(self, obj: dict) -> list[Cause]:
        handler = obj.get("handler")
        if not handler:
            return [field.required("handler", "")]
        return field.each_invalid("handler", handler, names.is_dns1123_label(handler))

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        if new.get("handler") != old.get("handler"):
            return [field.immutable("handler", new.get("handler"))]
        return []

    def columns(self) -> list[dict]:
        return [name_column(), col("Handler", doc("io.k8s.api.node.v1.RuntimeClass", "handler")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), obj.get("handler", ""), age_of(obj, now)]
