"""ReplicationControllers: selector and labels from the template, the
template's rules, status subresource and /scale (autoscaling/v1 Scale)."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at, podspec
from apiserver.registry.printing.columns import CORE, age_of, name_of
from apiserver.registry.printing.humanize import format_labels
from apiserver.registry.printing.pod_templates import containers_and_images, replica_set_columns
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field, meta
from apiserver.registry.validation.podspec import validate_pod_template

from .scale import ScaleSubresource, map_selector_text

_SPEC = CORE + "ReplicationControllerSpec"
_STATUS = CORE + "ReplicationControllerStatus"


class ReplicationControllerStrategy(Strategy):
    serves = (("", "replicationcontrollers"),)

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        template = spec.get("template")
        labels = ((template or {}).get("metadata") or {}).get("labels") or {}
        if labels:
            if not spec.get("selector"):
                spec["selector"] = dict(labels)
            meta_ = dict_at(obj, "metadata")
            if not meta_.get("labels"):
                meta_["labels"] = dict(labels)
        spec.setdefault("replicas", 1)
        podspec.pod_template(template)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = (field.non_negative("spec.replicas", spec.get("replicas"))
                  + field.non_negative("spec.minReadySeconds", spec.get("minReadySeconds")))
        selector = spec.get("selector") or {}
        if not selector:
            causes.append(field.required("spec.selector", ""))
        causes += meta.validate_labels(selector, "spec.selector")
        causes += validate_pod_template(spec.get("template"), "spec.template", selector)
        policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        if policy and policy != "Always":
            causes.append(field.not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
        return causes

    def columns(self) -> list[dict]:
        return replica_set_columns(_SPEC, _STATUS)

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        names, images = containers_and_images(spec.get("template"))
        desired = spec.get("replicas", 1) if spec.get("replicas") is not None else 1
        return [name_of(obj), int(desired), int(status.get("replicas") or 0), int(status.get("readyReplicas") or 0),
                age_of(obj, now), names, images, format_labels(spec.get("selector"))]

    def prepare_for_create(self, obj: dict) -> None:
        # upstream starts every RC with an empty status, which serializes as
        # {replicas: 0} (the field is not omitempty): clients read status.replicas at once
        super().prepare_for_create(obj)
        obj["status"] = {"replicas": 0}

    def subresource_handlers(self) -> dict:
        return {"scale": ScaleSubresource("", "replicationcontrollers", map_selector_text)}
