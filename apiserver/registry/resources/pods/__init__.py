"""Pods: status starts Pending, PodSpec defaults and rules, graceful deletion on
a node, the pod table (printer.py), /binding and /eviction."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at, podspec
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation.podspec import validate_pod_spec

from . import printer
from .binding import BindingHandler
from .eviction import EvictionHandler
from .mirror import validate_mirror_annotation, validate_mirror_annotation_update
from .validation import validate_pod_update

TERMINAL = ("Succeeded", "Failed")
DEFAULT_GRACE = 30


class PodStrategy(Strategy):
    serves = (("", "pods"),)
    selectable_fields = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                         "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                         "status.nominatedNodeName")

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        podspec.pod_spec(spec)
        status = dict_at(obj, "status")
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", podspec.qos_class(spec))

    def validate(self, obj: dict) -> list[Cause]:
        return validate_pod_spec(obj.get("spec"), "spec") + validate_mirror_annotation(obj)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return validate_pod_update(new, old) + validate_mirror_annotation_update(new, old)

    def prepare_for_create(self, obj: dict) -> None:
        obj["status"] = {"phase": "Pending"}

    def grace_period(self, obj: dict, requested: int | None) -> int:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in TERMINAL:
            return 0  # nothing runs it: nobody would finish a graceful delete
        if requested is not None:
            return max(requested, 0)
        grace = spec.get("terminationGracePeriodSeconds")
        return DEFAULT_GRACE if grace is None else max(int(grace), 0)

    def subresource_handlers(self) -> dict:
        return {"binding": BindingHandler(), "eviction": EvictionHandler()}

    def columns(self) -> list[dict]:
        return printer.columns()

    def cells(self, obj: dict, now: datetime) -> list:
        return printer.row(obj, now)
