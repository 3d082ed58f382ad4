"""batch/v1 CronJobs: defaults (Allow, 3 successful / 1 failed Jobs kept, not
suspended), schedule and time zone rules in upstream's words, /status and the
cronjob table (SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE)."""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from datetime import datetime

from cronsim import CronSim, CronSimError

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import dict_at, podspec
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import age, doc
from apiserver.registry.printing.pod_templates import containers_and_images, containers_column, images_column
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from . import workload_rules as rules
from .workload_rules import default
from .jobs import validate_job_spec

_SPEC = "io.k8s.api.batch.v1.CronJobSpec"
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MAX_NAME = 52  # the Job names it makes add 11 characters


# a Go duration, as time.ParseDuration reads it ("90s", "1h30m", "1.5h", "0")
_GO_DURATION = re.compile(r"[-+]?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h))+)")


def schedule_error(schedule: str) -> str | None:
    """Upstream parses schedules with robfig/cron's standard parser: five fields ("?" is
    "*" in the day fields), the @-descriptors, and "@every <Go duration>"."""
    s = " ".join(schedule.split())
    if s.lower() in _DESCRIPTORS:
        return None
    if s.startswith("@every "):
        if _GO_DURATION.fullmatch(s[len("@every "):]):
            return None
        return f"failed to parse duration {s}: time: invalid duration {s[len('@every '):]!r}".replace("'", '"')
    n = len(s.split())
    if n != 5:
        return f"expected exactly 5 fields, found {n}: {schedule}"
    try:
        CronSim(s.replace("?", "*"), dt.datetime(2000, 1, 1))
    except (CronSimError, ValueError) as e:
        return f"{e}"
    return None


class CronJobStrategy(Strategy):
    serves = (("batch", "cronjobs"),)

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {}  # upstream's empty status: a struct, its counts not omitempty

    def defaults(self, obj: dict) -> None:
        spec = dict_at(obj, "spec")
        default(spec, "concurrencyPolicy", "Allow")
        default(spec, "suspend", False)
        default(spec, "successfulJobsHistoryLimit", 3)
        default(spec, "failedJobsHistoryLimit", 1)
        podspec.pod_template(((spec.get("jobTemplate") or {}).get("spec") or {}).get("template"))

    def name_errors(self, name: str) -> list[str]:
        errs = super().name_errors(name)
        if len(name) > MAX_NAME:
            errs.append(f"must be no more than {MAX_NAME} characters")
        return errs

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = rules.non_negative(spec, "startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit")
        schedule = spec.get("schedule")
        if not schedule:
            causes.append(field.required("spec.schedule", ""))
        elif isinstance(schedule, str):
            if "TZ=" in schedule:
                causes.append(field.invalid("spec.schedule", schedule,
                                            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
            else:
                err = schedule_error(schedule)
                if err:
                    causes.append(field.invalid("spec.schedule", schedule, err))
        tz = spec.get("timeZone")
        if isinstance(tz, str):
            try:
                if not tz or tz.lower() == "local":
                    raise ValueError(tz)
                zoneinfo.ZoneInfo(tz)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                causes.append(field.invalid("spec.timeZone", tz, f"unknown time zone {tz}"))
        causes += field.supported("spec.concurrencyPolicy", spec.get("concurrencyPolicy"), ["Allow", "Forbid", "Replace"])
        job_spec = ((spec.get("jobTemplate") or {}).get("spec"))
        if job_spec is None:
            causes.append(field.required("spec.jobTemplate.spec", ""))
        else:
            causes += validate_job_spec(job_spec, "spec.jobTemplate.spec", generated_selector=False)
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Schedule", doc(_SPEC, "schedule")), col("Timezone", doc(_SPEC, "timeZone")),
                col("Suspend", doc(_SPEC, "suspend"), "boolean"),
                col("Active", doc("io.k8s.api.batch.v1.CronJobStatus", "active"), "integer"),
                col("Last Schedule", doc("io.k8s.api.batch.v1.CronJobStatus", "lastScheduleTime")), age_column(),
                containers_column(priority=1), images_column(priority=1),
                col("Selector", doc("io.k8s.api.batch.v1.JobSpec", "selector"), priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        names, images = containers_and_images(job_spec.get("template"))
        last = status.get("lastScheduleTime")
        return [name_of(obj), spec.get("schedule", ""), spec.get("timeZone") or "<none>", bool(spec.get("suspend")),
                len(status.get("active") or []), age(last, now) if last else "<none>", age_of(obj, now), names, images,
                rules.selector_string(job_spec.get("selector"))]
