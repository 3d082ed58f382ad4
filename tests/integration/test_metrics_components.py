"""/metrics of the controller manager (with the scheduler in it) on its
--metrics-bind-address: workqueue, leader-election and scheduler series move as
pods are scheduled on simulated nodes. Parsed by prometheus_client's parser."""
from __future__ import annotations

import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kubeclient.resources import PODS

from controllers_support import leading_controllers, poll, simulated_cluster
from tests.ports import free_port


@pytest.fixture(scope="module")
def controllers_metrics(server, tmp_path_factory):
    port = free_port()
    with leading_controllers(server.kubeconfig, tmp_path_factory.mktemp("ctl-metrics"),
                             "--controllers=scheduler,replicaset", "--leader-elect-retry-period", "500ms",
                             f"--metrics-bind-address=127.0.0.1:{port}", name="ctl-metrics"):
        yield f"http://127.0.0.1:{port}/metrics"


def scrape(url: str) -> dict[str, list]:
    r = httpx.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


def value(samples, metric, **labels) -> float:
    return sum(v for lab, v in samples.get(metric, []) if all(lab.get(k) == w for k, w in labels.items()))


def pod(name: str, cpu: str, tag: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeSelector": {"test-tag": tag},
                     "containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": cpu}}}]}}


async def test_scheduler_workqueue_and_leader_series_move(server, controllers_metrics, namespace):
    before = scrape(controllers_metrics)
    assert value(before, "leader_election_master_status", name="kube-controller-manager") == 1
    async with simulated_cluster(server.kubeconfig, renew_interval=1.0) as (client, sim):
        tag = f"t{uuid.uuid4().hex[:6]}"
        await sim.add(f"m-{tag}", cpu="1", labels={"test-tag": tag})
        await client.create(PODS, pod("fits", "500m", tag), namespace)
        await client.create(PODS, pod("huge", "64", tag), namespace)

        def moved():
            now = scrape(controllers_metrics)
            return now if value(now, "scheduler_schedule_attempts_total", result="scheduled") > value(
                before, "scheduler_schedule_attempts_total", result="scheduled") and value(
                now, "scheduler_schedule_attempts_total", result="unschedulable") > value(
                before, "scheduler_schedule_attempts_total", result="unschedulable") else None
        after = await poll(moved, what="scheduling attempts to be counted")
    assert value(after, "scheduler_scheduling_attempt_duration_seconds_count", result="scheduled",
                 profile="default-scheduler") >= 1
    assert {lab["queue"] for lab, _ in after["scheduler_pending_pods"]} == {"active", "unschedulable"}
    assert value(after, "workqueue_adds_total", name="scheduler") > value(before, "workqueue_adds_total",
                                                                           name="scheduler")
    assert value(after, "workqueue_work_duration_seconds_count", name="scheduler") > 0
    assert value(after, "workqueue_queue_duration_seconds_count", name="scheduler") > \
        value(before, "workqueue_queue_duration_seconds_count", name="scheduler")
    assert {"name": "replicaset"} in [lab for lab, _ in after["workqueue_depth"]]
    assert value(after, "process_resident_memory_bytes") > 0
    assert httpx.get(controllers_metrics.replace("/metrics", "/other")).status_code == 404
