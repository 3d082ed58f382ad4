"""Jobs run pods to completion: `completions` successes, at most `parallelism`
at a time, failing after `backoffLimit` failed pods or `activeDeadlineSeconds`.

Pods are tracked with upstream's finalizer protocol: every Job pod carries
batch.kubernetes.io/job-tracking; a finished pod's uid is first written to
status.uncountedTerminatedPods, then its finalizer is removed, then the uid is
moved into status.succeeded/failed, so that no pod is counted twice or lost
even if the pod is deleted or the controller restarts between steps. Finished
Jobs with ttlSecondsAfterFinished are deleted when it runs out (upstream's
ttl-after-finished controller, folded in here).
"""
from __future__ import annotations

import asyncio
import copy
import logging
import time

from kubeclient import ApiError
from kubeclient.resources import JOBS, PODS
from kubeclient.timestamps import epoch_time, parse_time

from . import jobutil
from .base import Controller
from .podutil import controller_ref, deletion_rank
from .ownership import Expectations, PodOwnerTracking, claim_pods, owner_ref
from .selectors import matches_label_selector
from .servicepods import pod_ready

log = logging.getLogger(__name__)


def _finished_phase(pod: dict) -> str | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return phase
    if pod["metadata"].get("deletionTimestamp"):
        return "Failed"  # deleted before it succeeded: a failure for the Job (podReplacementPolicy aside)
    return None


def _finish_time(pod: dict) -> float:
    times = [parse_time(((cs.get("state") or {}).get("terminated") or {}).get("finishedAt"))
             for cs in (pod.get("status") or {}).get("containerStatuses") or []]
    times = [t for t in times if t]
    return max(times) if times else (parse_time(pod["metadata"].get("deletionTimestamp")) or time.time())


class JobController(Controller):
    name = "job"
    workers = 4

    def setup(self) -> None:
        self.jobs = self.ctx.informers.informer(JOBS)
        self.pods = self.ctx.informers.informer(PODS)
        self.expectations = Expectations()
        self.recorder = self.ctx.recorder("job-controller")
        self.jobs.add_handler(*self.enqueue_handlers())
        self.pods.add_handler(*PodOwnerTracking(self.jobs, self.queue, self.expectations, self._job_key,
                                                self._selects).handlers())

    def _job_key(self, pod: dict) -> str | None:
        ref = controller_ref(pod)
        if ref and ref.get("kind") == "Job":
            return f"{pod['metadata']['namespace']}/{ref['name']}"
        return None

    @staticmethod
    def _selects(job: dict, labels: dict | None) -> bool:
        selector = (job.get("spec") or {}).get("selector")
        # an empty selector would claim every pod in the namespace: a Job always has a real one
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            return False
        return matches_label_selector(selector, labels)

    async def sync(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is None:
            self.expectations.forget(key)
            await self._release_orphans(key)
            return
        job = copy.deepcopy(job)
        ns, uid = job["metadata"]["namespace"], job["metadata"]["uid"]
        candidates = [p for p in self.pods.list(ns) if (controller_ref(p) or {}).get("uid") in (uid, None)]
        # a finished Job counts what it has but takes on no more pods (upstream skips it altogether)
        pods = await claim_pods(self.client, job, candidates, lambda labels: self._selects(job, labels),
                                "batch/v1", "Job", (jobutil.TRACKING_FINALIZER,), adopt=not jobutil.is_finished(job))
        spec, now = job.get("spec") or {}, time.time()
        old_status = job.get("status") or {}
        status = copy.deepcopy(old_status)
        unc = status.get("uncountedTerminatedPods") or {}
        unc_s, unc_f = list(unc.get("succeeded") or []), list(unc.get("failed") or [])
        by_uid = {p["metadata"]["uid"]: p for p in pods}
        # 3. uncounted pods whose finalizer is gone are counted for good
        for uids, field in ((unc_s, "succeeded"), (unc_f, "failed")):
            for u in list(uids):
                p = by_uid.get(u)
                if p is None or jobutil.TRACKING_FINALIZER not in (p["metadata"].get("finalizers") or []):
                    uids.remove(u)
                    status[field] = int(status.get(field) or 0) + 1
        # 1. newly finished pods still holding the finalizer become uncounted (a failure the
        # podFailurePolicy ignores is never counted; one it calls fatal fails the Job)
        ignored, fatal = [], None
        for p in pods:
            u = p["metadata"]["uid"]
            if jobutil.TRACKING_FINALIZER in (p["metadata"].get("finalizers") or []) and u not in unc_s + unc_f:
                phase = _finished_phase(p)
                if phase == "Succeeded":
                    unc_s.append(u)
                elif phase == "Failed":
                    match = jobutil.failure_policy_match(spec.get("podFailurePolicy"), p)
                    if match and match[0] == "Ignore":
                        ignored.append(p)
                        continue
                    if match and match[0] == "FailJob":
                        fatal = match[1]
                    unc_f.append(u)
        active = [p for p in pods if _finished_phase(p) is None]
        succeeded = int(status.get("succeeded") or 0) + len(unc_s)
        failed = int(status.get("failed") or 0) + len(unc_f)
        indexed = spec.get("completionMode") == "Indexed"
        done_idx = jobutil.parse_intervals(status.get("completedIndexes"))
        if indexed:
            done_idx |= {i for p in pods if (p.get("status") or {}).get("phase") == "Succeeded"
                         for i in [jobutil.pod_index(p)] if i is not None and i < int(spec.get("completions") or 0)}
        finished = jobutil.is_finished(job) or _interim(status)
        # a Job being deleted (foreground: the garbage collector is deleting its pods) is
        # counted and its pods released, but never managed: upstream creates no pod for it
        deleting = bool(job["metadata"].get("deletionTimestamp"))
        if not finished and fatal:
            finished = self._finish(job, status, "Failed", "PodFailurePolicy", fatal, now)
        if not finished:
            finished = await self._manage(key, job, status, active, pods, succeeded, failed, done_idx, now, deleting)
        if finished and not jobutil.is_finished(job) and not unc_s and not unc_f:
            self._final_condition(job, status, finished, now)  # every pod is counted: now it is final
        if finished:
            await self._delete_pods(job, key, active)
            active = []
        status.update(active=len(active), ready=sum(1 for p in active if pod_ready(p)))
        status["uncountedTerminatedPods"] = {k: v for k, v in (("succeeded", unc_s), ("failed", unc_f)) if v}
        if indexed:
            status["completedIndexes"] = jobutil.format_intervals(done_idx)
        status = {k: v for k, v in status.items() if v not in (0, None) or k in ("ready",)}
        if status != old_status:
            job["status"] = status
            try:
                self.jobs.assume(await self.client.update_status(JOBS, job, ns))
            except ApiError as e:
                if e.conflict:
                    self.queue.add_after(key, 0.05)
                    return
                raise
        # 2. only now that the uids are recorded may their finalizers go (every pod's, once the
        # Job is being deleted: nothing will count a pod still running after it is gone)
        release = [p for p in pods if jobutil.TRACKING_FINALIZER in (p["metadata"].get("finalizers") or [])
                   and (p["metadata"]["uid"] in unc_s + unc_f or p in ignored or deleting
                        or (finished and _finished_phase(p)))]
        await asyncio.gather(*(self._remove_finalizer(p) for p in release))
        if jobutil.is_finished({"status": status}):
            await self._ttl(dict(job, status=status), key, now)

    async def _manage(self, key, job, status, active, pods, succeeded, failed, done_idx, now,
                      deleting: bool) -> str | None:
        spec = job.get("spec") or {}
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        backoff_limit = int(spec.get("backoffLimit") if spec.get("backoffLimit") is not None else 6)
        deadline = spec.get("activeDeadlineSeconds")
        start = parse_time(status.get("startTime"))
        if failed > backoff_limit:
            return self._finish(job, status, "Failed", "BackoffLimitExceeded",
                                "Job has reached the specified backoff limit", now)
        if deadline is not None and start is not None and not spec.get("suspend") and now - start >= int(deadline):
            return self._finish(job, status, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline", now)
        if (indexed and completions is not None and len(done_idx) >= int(completions)) or \
                (not indexed and completions is not None and succeeded >= int(completions)) or \
                (completions is None and succeeded > 0 and not active):
            return self._finish(job, status, "Complete", "CompletionsReached", "Reached expected number of succeeded pods", now)
        if deleting:
            return None  # no pod created, deleted or suspended for a Job being deleted
        if spec.get("suspend"):
            await self._delete_pods(job, key, active)
            active.clear()
            if not _cond_true(status, "Suspended"):
                _set_cond(status, "Suspended", "True", "JobSuspended", "Job suspended", now)
                self.recorder.event(job, "Normal", "Suspended", "Job suspended")
            status.pop("startTime", None)
            return None
        if _cond_true(status, "Suspended"):
            _set_cond(status, "Suspended", "False", "JobResumed", "Job resumed", now)
            self.recorder.event(job, "Normal", "Resumed", "Job resumed")
        status.setdefault("startTime", epoch_time(now))
        if deadline is not None:
            self.queue.add_after(key, max(parse_time(status["startTime"]) + int(deadline) - now, 0) + 0.5)
        if not self.expectations.satisfied(key):
            return None
        wait = self._backoff_wait(pods, failed, now)
        parallelism = int(spec.get("parallelism") if spec.get("parallelism") is not None else 1)
        if indexed:
            running: dict[int, list] = {}
            for p in active:
                running.setdefault(jobutil.pod_index(p), []).append(p)
            extra = [p for i, ps in running.items() for p in (ps if i is None or i in done_idx else ps[1:])]
            todo = jobutil.missing_indexes(int(completions or 0), done_idx, set(running) - {None}, parallelism)
            if extra:
                await self._delete_pods(job, key, extra)
            elif todo and wait > 0:
                self.queue.add_after(key, wait)
            elif todo:
                await self._create(job, key, todo)
            return None
        want = jobutil.wanted_active(spec, succeeded, len(active))
        if len(active) < want:
            if wait > 0:
                self.queue.add_after(key, wait)
            else:
                await self._create(job, key, [None] * (want - len(active)))
        elif len(active) > want:
            await self._delete_pods(job, key, sorted(active, key=deletion_rank)[:len(active) - want])
        return None

    def _backoff_wait(self, pods: list[dict], failed: int, now: float) -> float:
        failures = [p for p in pods if _finished_phase(p) == "Failed"]
        if not failures:
            return 0.0
        last = max(_finish_time(p) for p in failures)
        return max(last + jobutil.backoff_delay(min(failed, len(failures))) - now, 0.0)

    def _finish(self, job, status, ctype, reason, message, now) -> str:
        """The interim condition (upstream's SuccessCriteriaMet / FailureTarget): the
        final one follows once every finished pod is counted."""
        _set_cond(status, "FailureTarget" if ctype == "Failed" else "SuccessCriteriaMet", "True", reason, message, now)
        return ctype

    def _final_condition(self, job, status, ctype, now) -> None:
        interim = next(c for c in status["conditions"]
                       if c["type"] == ("FailureTarget" if ctype == "Failed" else "SuccessCriteriaMet"))
        reason, message = interim["reason"], interim["message"]
        if ctype == "Complete":
            status["completionTime"] = epoch_time(now)
        _set_cond(status, ctype, "True", reason, message, now)
        self.recorder.event(job, "Normal" if ctype == "Complete" else "Warning",
                            "Completed" if ctype == "Complete" else reason,
                            "Job completed" if ctype == "Complete" else message)

    def _pod(self, job: dict, index: int | None) -> dict:
        tpl = copy.deepcopy((job.get("spec") or {}).get("template") or {})
        meta, name = tpl.get("metadata") or {}, job["metadata"]["name"]
        pod_meta = {"namespace": job["metadata"]["namespace"], "generateName": f"{name}-",
                    "labels": dict(meta.get("labels") or {}), "annotations": dict(meta.get("annotations") or {}),
                    "ownerReferences": [owner_ref(job, "batch/v1", "Job")],
                    "finalizers": list(meta.get("finalizers") or []) + [jobutil.TRACKING_FINALIZER]}
        spec = tpl.get("spec") or {}
        if index is not None:
            pod_meta["generateName"] = f"{name}-{index}-"
            pod_meta["annotations"][jobutil.INDEX_ANNOTATION] = str(index)
            pod_meta["labels"][jobutil.INDEX_LABEL] = str(index)
            spec.setdefault("hostname", f"{name}-{index}")
            for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                env = [e for e in c.get("env") or [] if e.get("name") != "JOB_COMPLETION_INDEX"]
                env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
                    "apiVersion": "v1", "fieldPath": f"metadata.annotations['{jobutil.INDEX_ANNOTATION}']"}}})
                c["env"] = env
        return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}

    async def _create(self, job: dict, key: str, indexes: list) -> None:
        self.expectations.expect(key, adds=len(indexes))
        ns = job["metadata"]["namespace"]
        results = await asyncio.gather(*(self.client.create(PODS, self._pod(job, i), ns) for i in indexes),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for r in results:
            if not isinstance(r, BaseException):
                self.recorder.event(job, "Normal", "SuccessfulCreate", f"Created pod: {r['metadata']['name']}")
        if errors:
            self.expectations.observe_add(key, len(errors))
            self.recorder.event(job, "Warning", "FailedCreate", f"Error creating: {errors[0]}")
            raise errors[0] if isinstance(errors[0], ApiError) else RuntimeError(str(errors[0]))

    async def _delete_pods(self, job: dict, key: str, pods: list[dict]) -> None:
        pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        if not pods:
            return
        self.expectations.expect(key, delete_uids={p["metadata"]["uid"] for p in pods})
        for p, r in zip(pods, await asyncio.gather(*(self.client.delete(PODS, p["metadata"]["name"], p["metadata"]["namespace"])
                                                      for p in pods), return_exceptions=True)):
            if isinstance(r, BaseException):
                self.expectations.observe_delete(key, p["metadata"]["uid"])
            else:
                self.recorder.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}")

    async def _release_orphans(self, key: str) -> None:
        """The Job is gone (deleted, its pods left to the garbage collector): nothing will
        count its pods any more, so none may keep the tracking finalizer, or their
        deletion would never finish (upstream does the same for orphaned pods)."""
        ns, _, name = key.partition("/")
        orphans = [p for p in self.pods.list(ns) if (controller_ref(p) or {}).get("kind") == "Job"
                   and (controller_ref(p) or {}).get("name") == name
                   and jobutil.TRACKING_FINALIZER in (p["metadata"].get("finalizers") or [])]
        await asyncio.gather(*(self._remove_finalizer(p) for p in orphans))

    async def _remove_finalizer(self, pod: dict) -> None:
        meta = pod["metadata"]
        rest = [f for f in meta.get("finalizers") or [] if f != jobutil.TRACKING_FINALIZER]
        try:
            await self.client.patch(PODS, meta["name"], {"metadata": {"finalizers": rest or None,
                                                                      "resourceVersion": meta["resourceVersion"]}},
                                    meta["namespace"])
        except ApiError as e:
            if not (e.not_found or e.conflict):
                raise

    async def _ttl(self, job: dict, key: str, now: float) -> None:
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None:
            return
        status = job.get("status") or {}
        done = parse_time(status.get("completionTime")) or max(
            (parse_time(c.get("lastTransitionTime")) or now for c in status.get("conditions") or []
             if c.get("type") in ("Complete", "Failed")), default=now)
        if now < done + int(ttl):
            self.queue.add_after(key, done + int(ttl) - now + 0.1)
            return
        try:
            await self.client.delete(JOBS, job["metadata"]["name"], job["metadata"]["namespace"],
                                     propagation_policy="Background", preconditions={"uid": job["metadata"]["uid"]})
        except ApiError as e:
            if not (e.not_found or e.conflict):
                raise


def _interim(status: dict) -> str | None:
    if _cond_true(status, "FailureTarget"):
        return "Failed"
    if _cond_true(status, "SuccessCriteriaMet"):
        return "Complete"
    return None


def _cond_true(status: dict, ctype: str) -> bool:
    return any(c.get("type") == ctype and c.get("status") == "True" for c in status.get("conditions") or [])


def _set_cond(status: dict, ctype: str, value: str, reason: str, message: str, now: float) -> None:
    ts = epoch_time(now)
    conds = [c for c in status.get("conditions") or [] if c.get("type") != ctype]
    conds.append({"type": ctype, "status": value, "lastProbeTime": ts, "lastTransitionTime": ts,
                  "reason": reason, "message": message})
    status["conditions"] = conds
