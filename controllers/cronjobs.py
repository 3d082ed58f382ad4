"""CronJobs create a Job at each firing of their schedule.

concurrencyPolicy Allow runs Jobs side by side, Forbid skips a firing while one
runs, Replace deletes the running ones first. A firing later than
startingDeadlineSeconds is missed, not run. Finished Jobs beyond the history
limits are deleted, oldest first. The schedule arithmetic is cronschedule.py.
"""
from __future__ import annotations

import copy
import datetime as dt
import logging
import time

from kubeclient import ApiError
from kubeclient.resources import CRONJOBS, JOBS
from kubeclient.timestamps import epoch_time, parse_time

from . import cronschedule
from .base import Controller
from .jobutil import is_finished
from .podutil import controller_ref
from .replication import owner_ref

log = logging.getLogger(__name__)
SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def job_name(cronjob: str, scheduled: float) -> str:
    """Upstream's deterministic name: the scheduled time in minutes, so a firing is created once."""
    return f"{cronjob}-{int(scheduled // 60)}"


def job_from_template(cj: dict, scheduled: float) -> dict:
    tpl = copy.deepcopy((cj.get("spec") or {}).get("jobTemplate") or {})
    meta = tpl.get("metadata") or {}
    tz = cronschedule.zone((cj.get("spec") or {}).get("timeZone"))
    annotations = dict(meta.get("annotations") or {})
    annotations[SCHEDULED_AT] = dt.datetime.fromtimestamp(scheduled, tz).isoformat().replace("+00:00", "Z")
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": job_name(cj["metadata"]["name"], scheduled), "namespace": cj["metadata"]["namespace"],
                         "labels": dict(meta.get("labels") or {}), "annotations": annotations,
                         "ownerReferences": [owner_ref(cj, "batch/v1", "CronJob")]},
            "spec": tpl.get("spec") or {}}


def _job_ref(job: dict) -> dict:
    m = job["metadata"]
    return {"kind": "Job", "namespace": m["namespace"], "name": m["name"], "uid": m["uid"],
            "apiVersion": "batch/v1", "resourceVersion": m.get("resourceVersion", "")}


class CronJobController(Controller):
    name = "cronjob"
    workers = 2

    def setup(self) -> None:
        self.cronjobs = self.ctx.informers.informer(CRONJOBS)
        self.jobs = self.ctx.informers.informer(JOBS)
        self.recorder = self.ctx.recorder("cronjob-controller")
        self.cronjobs.add_handler(*self.enqueue_handlers())
        self.jobs.add_handler(self._job_changed, lambda old, new: self._job_changed(new), self._job_changed)

    def _job_changed(self, job: dict) -> None:
        ref = controller_ref(job)
        if ref and ref.get("kind") == "CronJob":
            self.queue.add(f"{job['metadata']['namespace']}/{ref['name']}")

    async def sync(self, key: str) -> None:
        cj = self.cronjobs.get(key)
        if cj is None or cj["metadata"].get("deletionTimestamp"):
            return
        cj = copy.deepcopy(cj)
        spec, now = cj.get("spec") or {}, time.time()
        ns, uid = cj["metadata"]["namespace"], cj["metadata"]["uid"]
        jobs = [j for j in self.jobs.list(ns) if (controller_ref(j) or {}).get("uid") == uid]
        old_status = copy.deepcopy(cj.get("status") or {})
        status = cj.setdefault("status", {})
        running = [j for j in jobs if not is_finished(j) and not j["metadata"].get("deletionTimestamp")]
        for j in jobs:
            if is_finished(j) == "Complete":
                done = parse_time((j.get("status") or {}).get("completionTime"))
                if done and done > (parse_time(status.get("lastSuccessfulTime")) or 0):
                    status["lastSuccessfulTime"] = epoch_time(done)
            was_active = any(r.get("uid") == j["metadata"]["uid"] for r in old_status.get("active") or [])
            if was_active and is_finished(j):
                self.recorder.event(cj, "Normal", "SawCompletedJob",
                                    f"Saw completed job: {j['metadata']['name']}, status: {is_finished(j)}")
        await self._prune_history(cj, jobs)
        if not spec.get("suspend"):
            running = await self._maybe_run(key, cj, spec, running, now)
        status["active"] = [_job_ref(j) for j in sorted(running, key=lambda j: j["metadata"]["name"])]
        if not status["active"]:
            del status["active"]
        if status != old_status:
            try:
                self.cronjobs.assume(await self.client.update_status(CRONJOBS, cj, ns))
            except ApiError as e:
                if e.conflict:
                    self.queue.add_after(key, 0.1)
                elif not e.not_found:
                    raise

    async def _maybe_run(self, key: str, cj: dict, spec: dict, running: list[dict], now: float) -> list[dict]:
        schedule, tz = spec.get("schedule") or "", spec.get("timeZone")
        status = cj["status"]
        earliest = parse_time(status.get("lastScheduleTime")) or parse_time(cj["metadata"].get("creationTimestamp")) or now
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - int(deadline))
        try:
            scheduled, missed = cronschedule.most_recent(schedule, tz, earliest, now)
            self.queue.add_after(key, max(cronschedule.next_after(schedule, tz, now) - now, 0) + 0.2)
        except cronschedule.ScheduleError as e:
            self.recorder.event(cj, "Warning", "InvalidSchedule", f"invalid schedule: {schedule} : {e}")
            return running
        if scheduled is None:
            return running
        if missed > cronschedule.TOO_MANY_MISSED:
            self.recorder.event(cj, "Warning", "TooManyMissedTimes",
                                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                                "or check clock skew")
        policy = spec.get("concurrencyPolicy") or "Allow"
        if running and policy == "Forbid":
            self.recorder.event(cj, "Normal", "JobAlreadyActive",
                                "Not starting job because prior execution is running and concurrency policy is Forbid")
            return running
        if running and policy == "Replace":
            for j in running:
                await self._delete_job(cj, j)
                self.recorder.event(cj, "Normal", "SuccessfulDelete", f"Deleted job {j['metadata']['name']}")
            running = []
        body = job_from_template(cj, scheduled)
        try:
            job = await self.client.create(JOBS, body, cj["metadata"]["namespace"])
            self.jobs.assume(job)
            self.recorder.event(cj, "Normal", "SuccessfulCreate", f"Created job {job['metadata']['name']}")
        except ApiError as e:
            if not e.already_exists:
                self.recorder.event(cj, "Warning", "FailedCreate", f"Error creating job: {e}")
                raise
            job = self.jobs.get(f"{cj['metadata']['namespace']}/{body['metadata']['name']}")
        status["lastScheduleTime"] = epoch_time(scheduled)
        if job is not None and not is_finished(job) and all(j["metadata"]["uid"] != job["metadata"]["uid"] for j in running):
            running = running + [job]
        return running

    async def _prune_history(self, cj: dict, jobs: list[dict]) -> None:
        spec = cj.get("spec") or {}
        for kind, limit in (("Complete", spec.get("successfulJobsHistoryLimit", 3)),
                            ("Failed", spec.get("failedJobsHistoryLimit", 1))):
            if limit is None:
                continue
            done = [j for j in jobs if is_finished(j) == kind and not j["metadata"].get("deletionTimestamp")]
            done.sort(key=lambda j: ((j.get("status") or {}).get("startTime") or j["metadata"].get("creationTimestamp") or ""))
            for j in done[:max(len(done) - int(limit), 0)]:
                await self._delete_job(cj, j)
                self.recorder.event(cj, "Normal", "SuccessfulDelete", f"Deleted job {j['metadata']['name']}")

    async def _delete_job(self, cj: dict, job: dict) -> None:
        try:
            await self.client.delete(JOBS, job["metadata"]["name"], job["metadata"]["namespace"],
                                     propagation_policy="Background")
        except ApiError as e:
            if not e.not_found:
                raise
