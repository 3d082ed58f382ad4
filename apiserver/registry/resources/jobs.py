"""batch/v1 Jobs: a generated selector (batch.kubernetes.io/controller-uid)
and the matching template labels unless manualSelector, upstream's defaults
(completions/parallelism 1, backoffLimit 6, NonIndexed), the rules and what
may not change, /status and the job table (STATUS COMPLETIONS DURATION)."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at, podspec
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc, human_duration, parse_time
from apiserver.registry.printing.pod_templates import containers_and_images, containers_column, images_column
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from . import workload_rules as rules
from .workload_rules import default

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
_STATUS, _SPEC = "io.k8s.api.batch.v1.JobStatus", "io.k8s.api.batch.v1.JobSpec"


def job_spec_defaults(spec: dict) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    default(spec, "parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    default(spec, "completionMode", "NonIndexed")
    default(spec, "suspend", False)
    default(spec, "podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")
def validate_job_spec(spec: dict, path: str = "spec", generated_selector: bool = True) -> list[Cause]:
    causes = rules.non_negative(spec, "parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished",
                                path=path)
    ads = spec.get("activeDeadlineSeconds")
    if isinstance(ads, int) and ads <= 0:
        causes.append(field.invalid(field.child(path, "activeDeadlineSeconds"), ads, "must be greater than 0"))
    mode = spec.get("completionMode")
    causes += field.supported(field.child(path, "completionMode"), mode, ["NonIndexed", "Indexed"])
    if mode == "Indexed" and spec.get("completions") is None:
        causes.append(field.required(field.child(path, "completions"), "when completion mode is Indexed"))
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        causes += _failure_policy(policy, field.child(path, "podFailurePolicy"))
        restart = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        if restart and restart != "Never":
            causes.append(field.invalid(field.child(path, "template.spec.restartPolicy"), restart,
                                        'only "Never" is supported when podFailurePolicy is specified'))
    if generated_selector:
        causes += rules.selector_and_template(spec, "job", ("OnFailure", "Never"), path)
    else:  # a CronJob's jobTemplate: the selector comes when its Job is created
        tpl = spec.get("template")
        if tpl is None:
            causes.append(field.required(field.child(path, "template"), ""))
        else:
            from apiserver.registry.validation.podspec import validate_pod_template
            causes += validate_pod_template(tpl, field.child(path, "template"), None)
            policy = ((tpl or {}).get("spec") or {}).get("restartPolicy")
            if policy not in ("OnFailure", "Never"):
                causes.append(field.not_supported(field.child(path, "template.spec.restartPolicy"), policy,
                                                  ["OnFailure", "Never"]))
    return causes


def _failure_policy(policy: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(policy.get("rules") or []):
        p = field.index(field.child(path, "rules"), i)
        if not isinstance(rule, dict):
            continue
        causes += field.supported(field.child(p, "action"), rule.get("action"), ["Count", "FailIndex", "FailJob", "Ignore"])
        codes, conds = rule.get("onExitCodes"), rule.get("onPodConditions")
        if codes is None and not conds:
            causes.append(field.invalid(p, rule, "specifying one of OnExitCodes and OnPodConditions is required"))
        if codes is not None and conds:
            causes.append(field.invalid(p, rule, "specifying both OnExitCodes and OnPodConditions is not supported"))
        if isinstance(codes, dict):
            causes += field.supported(field.child(field.child(p, "onExitCodes"), "operator"), codes.get("operator"),
                                      ["In", "NotIn"])
            if codes.get("operator") == "In" and 0 in (codes.get("values") or []):
                causes.append(field.invalid(field.child(field.child(p, "onExitCodes"), "values"), 0,
                                            "must not be 0 for the In operator"))
    return causes


class JobStrategy(Strategy):
    serves = (("batch", "jobs"),)
    selectable_fields = ("status.successful",)

    def fields(self, obj: dict) -> dict[str, str]:
        f = super().fields(obj)
        f["status.successful"] = str(int((obj.get("status") or {}).get("succeeded") or 0))  # upstream's name
        return f

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {}  # a struct upstream, never omitted
        spec, meta = dict_at(obj, "spec"), obj.get("metadata") or {}
        if spec.get("manualSelector") is True:
            return
        uid, name = meta.get("uid", ""), meta.get("name", "")
        labels = dict_at(dict_at(dict_at(spec, "template"), "metadata"), "labels")
        labels.update({CONTROLLER_UID: uid, JOB_NAME: name, "controller-uid": uid, "job-name": name})
        spec["selector"] = {"matchLabels": {CONTROLLER_UID: uid}}

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        job_spec_defaults(spec)
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        meta = dict_at(obj, "metadata")
        if template_labels and not meta.get("labels"):
            meta["labels"] = dict(template_labels)
        podspec.pod_template(spec.get("template"))

    def validate(self, obj: dict) -> list[Cause]:
        return validate_job_spec(obj.get("spec") or {})

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        causes = rules.immutable_selector(new, old)
        for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy"):
            if ns.get(key) != os_.get(key):
                causes.append(field.immutable(f"spec.{key}", ns.get(key)))
        if ns.get("completions") != os_.get("completions") and not (
                ns.get("completionMode") == "Indexed" and ns.get("completions") == ns.get("parallelism")):
            causes.append(field.immutable("spec.completions", ns.get("completions")))
        if ns.get("template") != os_.get("template") and not os_.get("suspend"):
            causes.append(field.immutable("spec.template", ns.get("template")))
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Status", "Status of the job"),
                col("Completions", "The completion status of the job"),
                col("Duration", "Time required to complete the job"), age_column(),
                containers_column(priority=1), images_column(priority=1),
                col("Selector", doc(_SPEC, "selector"), priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        names, images = containers_and_images(spec.get("template"))
        succeeded = int(status.get("succeeded") or 0)
        if spec.get("completions") is not None:
            completions = f"{succeeded}/{spec['completions']}"
        elif int(spec.get("parallelism") or 0) > 1:
            completions = f"{succeeded}/1 of {spec['parallelism']}"
        else:
            completions = f"{succeeded}/1"
        start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
        duration = human_duration(((end or now) - start).total_seconds()) if start else ""
        return [name_of(obj), job_status(obj), completions, duration, age_of(obj, now), names, images,
                rules.selector_string(spec.get("selector"))]


def job_status(job: dict) -> str:
    """Upstream's order: a finished Job, then Terminating, Suspended, the interim conditions, Running."""
    conds = {c.get("type") for c in (job.get("status") or {}).get("conditions") or [] if c.get("status") == "True"}
    for ctype in ("Complete", "Failed"):
        if ctype in conds:
            return ctype
    if (job.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for ctype in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if ctype in conds:
            return ctype
    return "Running"
