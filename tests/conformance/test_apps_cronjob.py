"""[sig-apps] CronJob rows that wait for schedules, written from their upstream
descriptions: Allow runs jobs side by side, Forbid skips a firing while one
runs, Replace swaps the running job for a new one, a suspended CronJob runs
nothing.

Schedules fire once a minute, so the four CronJobs are created together, up
front, in one namespace (a module fixture) and every row then waits for its own
condition: the rows cost the two firings once, not each. Where upstream waits
out a timeout to see that nothing happens, the rows wait instead for evidence
that a firing came and went: the controller's JobAlreadyActive event (Forbid),
or the Allow CronJob's second job (suspend). Replace comes first: it must see the
first firing's job before the second firing replaces it."""
from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import wait_for

IMAGE = "localhost/busybox"
TIMEOUT = 200  # two firings of "*/1 * * * ?" and then some
SCHEDULE = "*/1 * * * ?"  # upstream's schedule, "?" and all


def _cronjob(name: str, policy: str, suspend: bool = False) -> dict:
    """Upstream's createCronJob: a Job of one pod that sleeps (sleepCommand)."""
    return {"metadata": {"name": name}, "spec": {
        "schedule": SCHEDULE, "concurrencyPolicy": policy, "suspend": suspend,
        "jobTemplate": {"spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6, "template": {"spec": {
            "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "300"]}]}}}}}}


@pytest.fixture(scope="module")
def cron_ns(core, batch):
    name = f"cronjob-rows-{uuid.uuid4().hex[:5]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"e2e-framework": "pocketkube-conformance"}}})
    for body in (_cronjob("concurrent", "Allow"), _cronjob("forbid", "Forbid"),
                 _cronjob("replace", "Replace"), _cronjob("suspended", "Allow", suspend=True)):
        batch.create_namespaced_cron_job(name, body)
    yield name
    core.delete_namespace(name)


def _jobs_of(batch, ns: str, cronjob: str) -> list:
    return [j for j in batch.list_namespaced_job(ns).items
            if any(r.kind == "CronJob" and r.name == cronjob for r in j.metadata.owner_references or [])]


def _active(job) -> bool:
    """filterActiveJobs: not finished."""
    return not any(c.type in ("Complete", "Failed") and c.status == "True" for c in (job.status.conditions or []))


def _wait_active_jobs(batch, ns: str, cronjob: str, n: int):
    """waitForActiveJobs: the CronJob's status lists at least n active jobs."""
    return wait_for(lambda: len(batch.read_namespaced_cron_job(cronjob, ns).status.active or []) >= n
                    and batch.read_namespaced_cron_job(cronjob, ns), timeout=TIMEOUT,
                    what=f"{n} active jobs of {cronjob}")


@row("CronJob ReplaceConcurrent", release="v1.21", needs="CTRL",
     codename="[sig-apps] CronJob should replace jobs when ReplaceConcurrent")
def test_cronjob_replace_swaps_the_running_job(batch, cron_ns):
    cj = _wait_active_jobs(batch, cron_ns, "replace", 1)  # "Ensuring a job is scheduled"
    assert len(cj.status.active) == 1  # "Ensuring exactly one is scheduled"
    jobs = [j for j in _jobs_of(batch, cron_ns, "replace") if _active(j)]
    assert len(jobs) == 1
    first = jobs[0].metadata.name

    def replaced():  # waitForJobReplaced: never two alive at once, and then another one
        alive = [j for j in _jobs_of(batch, cron_ns, "replace") if j.metadata.deletion_timestamp is None]
        assert len(alive) <= 1, f"more than one job is running: {[j.metadata.name for j in alive]}"
        return len(alive) == 1 and alive[0].metadata.name != first
    wait_for(replaced, timeout=TIMEOUT, what="the job replaced by a new one")
    # the replaced job is gone ("Removing cronjob" follows upstream; the namespace goes at the end)
    wait_for(lambda: first not in {j.metadata.name for j in _jobs_of(batch, cron_ns, "replace")},
             timeout=60, what=f"{first} deleted")


@row("CronJob ForbidConcurrent", release="v1.21", needs="CTRL",
     codename="[sig-apps] CronJob should not schedule new jobs when ForbidConcurrent")
def test_cronjob_forbid_skips_while_a_job_runs(batch, core, cron_ns):
    cj = _wait_active_jobs(batch, cron_ns, "forbid", 1)  # "Ensuring a job is scheduled"
    assert len(cj.status.active) == 1  # "Ensuring exactly one is scheduled"
    assert len([j for j in _jobs_of(batch, cron_ns, "forbid") if _active(j)]) == 1

    # "Ensuring no more jobs are scheduled": the next firing comes and is skipped
    def skipped():
        return any(e.reason == "JobAlreadyActive" and e.involved_object.name == "forbid"
                   for e in core.list_namespaced_event(cron_ns).items)
    wait_for(skipped, timeout=TIMEOUT, what="the next firing skipped (JobAlreadyActive)")
    assert len(batch.read_namespaced_cron_job("forbid", cron_ns).status.active or []) == 1
    assert len([j for j in _jobs_of(batch, cron_ns, "forbid") if _active(j)]) == 1


@row("CronJob AllowConcurrent", release="v1.21", needs="CTRL",
     codename="[sig-apps] CronJob should schedule multiple jobs concurrently")
def test_cronjob_allow_runs_jobs_concurrently(batch, cron_ns):
    _wait_active_jobs(batch, cron_ns, "concurrent", 2)  # "Ensuring more than one job is running at a time"
    # "Ensuring at least two running jobs exists by listing jobs explicitly"
    assert len([j for j in _jobs_of(batch, cron_ns, "concurrent") if _active(j)]) >= 2


@row("CronJob Suspend", release="v1.21", needs="CTRL",
     codename="[sig-apps] CronJob should not schedule jobs when suspended")
def test_cronjob_suspended_runs_nothing(batch, cron_ns):
    # "Ensuring no jobs are scheduled": created with the others, it saw the firings that gave
    # the Allow CronJob two jobs
    _wait_active_jobs(batch, cron_ns, "concurrent", 2)
    cj = batch.read_namespaced_cron_job("suspended", cron_ns)
    assert not cj.status.active and cj.status.last_schedule_time is None
    assert _jobs_of(batch, cron_ns, "suspended") == []  # "Ensuring no job exists by listing jobs explicitly"
    try:
        batch.delete_namespaced_cron_job("suspended", cron_ns)  # "Removing cronjob"
    except client.ApiException as e:
        if e.status != 404:
            raise
