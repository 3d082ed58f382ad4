"""apps/v1 ReplicaSets: replicas default to 1; the selector is required, matches
the template and is immutable (apps/v1 froze it); /status, /scale, the rs table.
(Upstream's empty-selector message says "deployment" for ReplicaSets too.)"""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at, podspec
from apiserver.registry.printing.columns import age_of, name_of
from apiserver.registry.printing.pod_templates import containers_and_images, replica_set_columns
from apiserver.registry.strategy import Strategy

from . import workload_rules as rules
from .workload_rules import default
from .scale import label_selector_scale

_SPEC, _STATUS = "io.k8s.api.apps.v1.ReplicaSetSpec", "io.k8s.api.apps.v1.ReplicaSetStatus"


class ReplicaSetStrategy(Strategy):
    serves = (("apps", "replicasets"),)
    selectable_fields = ("status.replicas",)

    def fields(self, obj: dict) -> dict[str, str]:
        f = super().fields(obj)
        f["status.replicas"] = str(int((obj.get("status") or {}).get("replicas") or 0))
        return f

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        default(spec, "replicas", 1)
        podspec.pod_template(spec.get("template"))

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"replicas": 0}  # not omitempty upstream: clients read it at once

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        return rules.non_negative(spec, "replicas", "minReadySeconds") + rules.selector_and_template(spec, "deployment")

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return rules.immutable_selector(new, old)

    def subresource_handlers(self) -> dict:
        return {"scale": label_selector_scale("replicasets")}

    def columns(self) -> list[dict]:
        return replica_set_columns(_SPEC, _STATUS)

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        names, images = containers_and_images(spec.get("template"))
        return [name_of(obj), int(spec.get("replicas", 1)), int(status.get("replicas") or 0),
                int(status.get("readyReplicas") or 0), age_of(obj, now), names, images,
                rules.selector_string(spec.get("selector"))]
