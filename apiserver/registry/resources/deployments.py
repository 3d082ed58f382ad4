"""apps/v1 Deployments: upstream's defaults (RollingUpdate 25%/25%, 10 old
ReplicaSets, a 600 s progress deadline), selector and strategy rules, the
immutable selector, /status, /scale and the `kubectl get deploy` table."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at, podspec
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.printing.pod_templates import containers_and_images, containers_column, images_column
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from . import workload_rules as rules
from .workload_rules import default
from .scale import label_selector_scale

_SPEC, _STATUS = "io.k8s.api.apps.v1.DeploymentSpec", "io.k8s.api.apps.v1.DeploymentStatus"


class DeploymentStrategy(Strategy):
    serves = (("apps", "deployments"),)

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {}  # upstream's empty status: a struct, its counts not omitempty

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        default(spec, "replicas", 1)
        strategy = dict_at(spec, "strategy")
        default(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = dict_at(strategy, "rollingUpdate")
            default(ru, "maxUnavailable", "25%")
            default(ru, "maxSurge", "25%")
        default(spec, "revisionHistoryLimit", 10)
        default(spec, "progressDeadlineSeconds", 600)
        podspec.pod_template(spec.get("template"))

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = rules.non_negative(spec, "replicas", "minReadySeconds", "revisionHistoryLimit")
        causes += rules.selector_and_template(spec, "deployment")
        strategy = spec.get("strategy") or {}
        kind = strategy.get("type")
        causes += field.supported("spec.strategy.type", kind, ["Recreate", "RollingUpdate"])
        ru = strategy.get("rollingUpdate")
        if kind == "Recreate" and ru is not None:
            causes.append(field.forbidden("spec.strategy.rollingUpdate",
                                          "may not be specified when strategy `type` is 'Recreate'"))
        elif isinstance(ru, dict):
            unavail_causes, unavail = rules.int_or_percent(ru.get("maxUnavailable"), "spec.strategy.rollingUpdate.maxUnavailable")
            surge_causes, surge = rules.int_or_percent(ru.get("maxSurge"), "spec.strategy.rollingUpdate.maxSurge")
            causes += unavail_causes + surge_causes
            if unavail == 0 and surge == 0:
                causes.append(field.invalid("spec.strategy.rollingUpdate.maxUnavailable", ru.get("maxUnavailable"),
                                            "may not be 0 when `maxSurge` is 0"))
        deadline = spec.get("progressDeadlineSeconds")
        if isinstance(deadline, int):
            causes += field.non_negative("spec.progressDeadlineSeconds", deadline)
            if deadline <= int(spec.get("minReadySeconds") or 0):
                causes.append(field.invalid("spec.progressDeadlineSeconds", deadline,
                                            "must be greater than minReadySeconds"))
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return rules.immutable_selector(new, old)

    def subresource_handlers(self) -> dict:
        return {"scale": label_selector_scale("deployments")}

    def columns(self) -> list[dict]:
        return [name_column(), col("Ready", "Number of the pod with ready state"),
                col("Up-to-date", doc(_STATUS, "updatedReplicas")), col("Available", doc(_STATUS, "availableReplicas")),
                age_column(), containers_column(priority=1), images_column(priority=1),
                col("Selector", doc(_SPEC, "selector"), priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        names, images = containers_and_images(spec.get("template"))
        return [name_of(obj), f"{int(status.get('readyReplicas') or 0)}/{int(spec.get('replicas', 1))}",
                int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0), age_of(obj, now),
                names, images, rules.selector_string(spec.get("selector"))]
