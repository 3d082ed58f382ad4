"""apps/v1 DaemonSets: RollingUpdate (maxUnavailable 1, maxSurge 0) and 10
revisions by default, the selector and template rules, immutable selector,
/status and the ds table."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at, podspec
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc, format_labels
from apiserver.registry.printing.pod_templates import containers_and_images, containers_column, images_column
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from . import workload_rules as rules
from .workload_rules import default

_STATUS = "io.k8s.api.apps.v1.DaemonSetStatus"


class DaemonSetStrategy(Strategy):
    serves = (("apps", "daemonsets"),)

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}  # upstream's empty status: a struct, its counts not omitempty

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        update = dict_at(spec, "updateStrategy")
        default(update, "type", "RollingUpdate")
        if update["type"] == "RollingUpdate":
            ru = dict_at(update, "rollingUpdate")
            default(ru, "maxUnavailable", 1)
            default(ru, "maxSurge", 0)
        default(spec, "revisionHistoryLimit", 10)
        podspec.pod_template(spec.get("template"))

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = rules.non_negative(spec, "minReadySeconds", "revisionHistoryLimit")
        causes += rules.selector_and_template(spec, "daemonset")
        update = spec.get("updateStrategy") or {}
        causes += field.supported("spec.updateStrategy.type", update.get("type"), ["OnDelete", "RollingUpdate"])
        ru = update.get("rollingUpdate")
        if isinstance(ru, dict) and update.get("type") == "RollingUpdate":
            c1, unavail = rules.int_or_percent(ru.get("maxUnavailable"), "spec.updateStrategy.rollingUpdate.maxUnavailable")
            c2, surge = rules.int_or_percent(ru.get("maxSurge"), "spec.updateStrategy.rollingUpdate.maxSurge")
            causes += c1 + c2
            # exactly one of the two is non-zero, as upstream: a surging update keeps every node served
            # (the controller's surge plan has no use for maxUnavailable), the other kind surges nothing
            if unavail and surge:
                causes.append(field.invalid("spec.updateStrategy.rollingUpdate.maxSurge", ru.get("maxSurge"),
                                            "may not be set when maxUnavailable is non-zero"))
            elif not unavail and not surge:
                causes.append(field.required("spec.updateStrategy.rollingUpdate.maxUnavailable",
                                             "cannot be 0 when maxSurge is 0"))
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return rules.immutable_selector(new, old)

    def columns(self) -> list[dict]:
        return [name_column(), col("Desired", doc(_STATUS, "desiredNumberScheduled"), "integer"),
                col("Current", doc(_STATUS, "currentNumberScheduled"), "integer"),
                col("Ready", doc(_STATUS, "numberReady"), "integer"),
                col("Up-to-date", doc(_STATUS, "updatedNumberScheduled"), "integer"),
                col("Available", doc(_STATUS, "numberAvailable"), "integer"),
                col("Node Selector", "The node selector of the daemon set's pod template"), age_column(),
                containers_column(priority=1), images_column(priority=1),
                col("Selector", doc("io.k8s.api.apps.v1.DaemonSetSpec", "selector"), priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        names, images = containers_and_images(spec.get("template"))
        node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
        n = lambda k: int(status.get(k) or 0)  # noqa: E731
        return [name_of(obj), n("desiredNumberScheduled"), n("currentNumberScheduled"), n("numberReady"),
                n("updatedNumberScheduled"), n("numberAvailable"), format_labels(node_selector) if node_selector else "<none>",
                age_of(obj, now), names, images, rules.selector_string(spec.get("selector"))]
