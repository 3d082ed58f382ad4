"""apps/v1 StatefulSets: upstream's defaults (OrderedReady, RollingUpdate with
partition 0, claims retained), the selector and template rules, what may
change on update, /status, /scale and the sts table."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at, podspec
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.pod_templates import containers_and_images, containers_column, images_column
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from . import workload_rules as rules
from .workload_rules import default
from .scale import label_selector_scale

# what an update may change; everything else in spec is frozen (upstream's ValidateStatefulSetUpdate)
_MUTABLE = ("replicas", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds",
            "ordinals", "revisionHistoryLimit")


def _with_claim_volumes(spec: dict) -> dict:
    """The spec as its pods will be: each volumeClaimTemplate is a volume the
    containers may mount (upstream validates the template this way too)."""
    claims = [c for c in spec.get("volumeClaimTemplates") or [] if isinstance(c, dict)]
    template = spec.get("template")
    if not claims or not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        return spec
    pod_spec = dict(template["spec"])
    names = {(c.get("metadata") or {}).get("name") for c in claims}
    pod_spec["volumes"] = [v for v in pod_spec.get("volumes") or [] if v.get("name") not in names] + [
        {"name": n, "persistentVolumeClaim": {"claimName": n}} for n in sorted(n for n in names if n)]
    return dict(spec, template=dict(template, spec=pod_spec))


class StatefulSetStrategy(Strategy):
    serves = (("apps", "statefulsets"),)

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"replicas": 0, "availableReplicas": 0}  # upstream's empty status: a struct, its counts not omitempty

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        default(spec, "replicas", 1)
        default(spec, "podManagementPolicy", "OrderedReady")
        update = dict_at(spec, "updateStrategy")
        default(update, "type", "RollingUpdate")
        if update["type"] == "RollingUpdate":
            dict_at(update, "rollingUpdate").setdefault("partition", 0)
        default(spec, "revisionHistoryLimit", 10)
        retention = dict_at(spec, "persistentVolumeClaimRetentionPolicy")
        default(retention, "whenDeleted", "Retain")
        default(retention, "whenScaled", "Retain")
        for claim in spec.get("volumeClaimTemplates") or []:
            if isinstance(claim, dict):
                dict_at(claim, "spec").setdefault("volumeMode", "Filesystem")
                dict_at(claim, "status").setdefault("phase", "Pending")
        podspec.pod_template(spec.get("template"))

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = rules.non_negative(spec, "replicas", "minReadySeconds", "revisionHistoryLimit")
        causes += rules.selector_and_template(_with_claim_volumes(spec), "statefulset")
        causes += field.supported("spec.podManagementPolicy", spec.get("podManagementPolicy"), ["OrderedReady", "Parallel"])
        update = spec.get("updateStrategy") or {}
        causes += field.supported("spec.updateStrategy.type", update.get("type"), ["OnDelete", "RollingUpdate"])
        if update.get("type") == "OnDelete" and update.get("rollingUpdate") is not None:
            causes.append(field.invalid("spec.updateStrategy.rollingUpdate", update["rollingUpdate"],
                                        "only allowed for updateStrategy 'RollingUpdate'"))
        partition = (update.get("rollingUpdate") or {}).get("partition")
        causes += field.non_negative("spec.updateStrategy.rollingUpdate.partition", partition)
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        a = {k: v for k, v in (new.get("spec") or {}).items() if k not in _MUTABLE}
        b = {k: v for k, v in (old.get("spec") or {}).items() if k not in _MUTABLE}
        if a != b:
            return [field.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                                    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                                    "'minReadySeconds' are forbidden")]
        return []

    def subresource_handlers(self) -> dict:
        return {"scale": label_selector_scale("statefulsets")}

    def columns(self) -> list[dict]:
        return [name_column(), col("Ready", "Number of the pod with ready state"), age_column(),
                containers_column(priority=1), images_column(priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        names, images = containers_and_images(spec.get("template"))
        return [name_of(obj), f"{int(status.get('readyReplicas') or 0)}/{int(spec.get('replicas', 1))}",
                age_of(obj, now), names, images]
