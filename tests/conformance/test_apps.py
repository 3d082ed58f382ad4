"""[sig-apps] Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision,
Job, CronJob and PodDisruptionBudget rows (test/e2e/apps), written from their
upstream descriptions."""
from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import Watcher, retry_on_conflict, wait_for

IMAGE = "localhost/busybox"
SLEEP = ["sleep", "3600"]


def _template(labels: dict, image: str = IMAGE, restart: str | None = None) -> dict:
    spec = {"terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": image, "command": SLEEP}]}
    if restart:
        spec["restartPolicy"] = restart
    return {"metadata": {"labels": labels}, "spec": spec}


def _deployment(name: str, replicas: int, labels: dict, **spec) -> dict:
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": _template(labels), **spec}}


def _rollout_done(apps, ns, name, timeout=120):
    def done():
        d = apps.read_namespaced_deployment(name, ns)
        st = d.status or client.V1DeploymentStatus()
        return (st.observed_generation or 0) >= d.metadata.generation and \
            (st.updated_replicas or 0) == d.spec.replicas == (st.replicas or 0) == (st.available_replicas or 0)
    wait_for(done, timeout=timeout, what=f"deployment {name} rolled out")


@row("Deployment, completes the lifecycle of a Deployment", release="v1.20", needs="CTRL+POD",
     codename="[sig-apps] Deployment should run the lifecycle of a Deployment")
def test_deployment_lifecycle(apps, ns):
    labels = {"test-deployment-static": "true"}
    listed = apps.list_namespaced_deployment(ns, label_selector="test-deployment-static=true")
    w = Watcher(apps.list_namespaced_deployment, namespace=ns, label_selector="test-deployment-static=true",
                resource_version=listed.metadata.resource_version)
    apps.create_namespaced_deployment(ns, _deployment("test-deployment", 1, labels))
    w.expect_event("ADDED", timeout=60)
    _rollout_done(apps, ns, "test-deployment")
    apps.patch_namespaced_deployment("test-deployment", ns, {
        "metadata": {"labels": {"test-deployment": "patched"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": IMAGE,
                                                                       "command": ["sleep", "3601"]}]}}}})
    _rollout_done(apps, ns, "test-deployment")
    found = apps.list_deployment_for_all_namespaces(label_selector="test-deployment-static=true").items
    assert any(d.metadata.name == "test-deployment" and d.metadata.labels.get("test-deployment") == "patched"
               for d in found)
    def update_status():   # the deployment controller writes the status too
        d = apps.read_namespaced_deployment_status("test-deployment", ns)
        d.status.conditions = (d.status.conditions or []) + [client.V1DeploymentCondition(
            type="StatusUpdate", status="True", reason="E2E", message="Set from e2e test")]
        return apps.replace_namespaced_deployment_status("test-deployment", ns, d)
    updated = retry_on_conflict(update_status)
    assert any(c.type == "StatusUpdate" for c in updated.status.conditions)
    patched = apps.patch_namespaced_deployment_status("test-deployment", ns, {"status": {"readyReplicas": 2}})
    assert patched.status.ready_replicas == 2
    apps.delete_collection_namespaced_deployment(ns, label_selector="test-deployment-static=true")
    w.expect_event("DELETED", timeout=60)
    w.stop()


@row("Deployment RollingUpdate", release="v1.12", needs="CTRL+POD",
     codename="[sig-apps] Deployment RollingUpdateDeployment should delete old pods and create new ones")
def test_deployment_rolling_update_adopts_and_replaces(apps, core, ns):
    labels = {"name": "sample-pod"}
    rs = {"metadata": {"name": "test-rolling-update-controller", "labels": labels,
                       "annotations": {"deployment.kubernetes.io/revision": "3546343826724305832"}},
          "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": _template(labels)}}
    apps.create_namespaced_replica_set(ns, rs)
    wait_for(lambda: (apps.read_namespaced_replica_set(rs["metadata"]["name"], ns).status.ready_replicas or 0) == 1,
             timeout=120, what="the ReplicaSet's pod ready")
    d = _deployment("test-rolling-update-deployment", 1, labels)
    d["spec"]["template"]["spec"]["containers"][0]["command"] = ["sleep", "3602"]
    apps.create_namespaced_deployment(ns, d)
    _rollout_done(apps, ns, d["metadata"]["name"])
    dep = apps.read_namespaced_deployment(d["metadata"]["name"], ns)
    assert dep.metadata.annotations["deployment.kubernetes.io/revision"] == "3546343826724305833"
    sets = apps.list_namespaced_replica_set(ns).items
    assert len(sets) == 2
    old = next(s for s in sets if s.metadata.name == "test-rolling-update-controller")
    assert old.spec.replicas == 0 and old.metadata.owner_references[0].name == d["metadata"]["name"]


@row("Deployment Recreate", release="v1.12", needs="CTRL+POD",
     codename="[sig-apps] Deployment RecreateDeployment should delete old pods and create new ones")
def test_deployment_recreate_never_overlaps(apps, core, ns):
    labels = {"name": "sample-pod-3"}
    apps.create_namespaced_deployment(ns, _deployment("test-recreate-deployment", 1, labels,
                                                      strategy={"type": "Recreate"}))
    _rollout_done(apps, ns, "test-recreate-deployment")
    pods = core.list_namespaced_pod(ns, label_selector="name=sample-pod-3")
    w = Watcher(core.list_namespaced_pod, namespace=ns, label_selector="name=sample-pod-3",
                resource_version=pods.metadata.resource_version)
    old = {p.metadata.name for p in pods.items}
    apps.patch_namespaced_deployment("test-recreate-deployment", ns, {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3603"]}]}}}})
    _rollout_done(apps, ns, "test-recreate-deployment")
    running_old, seen_new_while_old = set(old), False
    while True:
        try:
            kind, obj = w.next(timeout=2)
        except Exception:
            break
        name = obj["metadata"]["name"]
        if name in old and (kind == "DELETED"):
            running_old.discard(name)
        elif name not in old and running_old:
            seen_new_while_old = True
    w.stop()
    assert not seen_new_while_old, "a new pod appeared while an old one still existed"


@row("Deployment Proportional Scaling", release="v1.12", needs="CTRL+POD",
     codename="[sig-apps] Deployment deployment should support proportional scaling")
def test_deployment_proportional_scaling(apps, ns):
    labels = {"name": "httpd"}
    d = _deployment("webserver-deployment", 10, labels, strategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}})
    apps.create_namespaced_deployment(ns, d)
    _rollout_done(apps, ns, "webserver-deployment", timeout=180)
    apps.patch_namespaced_deployment("webserver-deployment", ns, {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "webserver:404", "command": SLEEP}]}}}})

    def sizes():
        return sorted((s.spec.replicas for s in apps.list_namespaced_replica_set(ns).items), reverse=True)
    wait_for(lambda: sizes() == [8, 5], timeout=120, what="the rollout stuck at 8 old and 5 new")
    apps.patch_namespaced_deployment_scale("webserver-deployment", ns, {"spec": {"replicas": 30}})
    wait_for(lambda: sizes() == [20, 13], timeout=60, what="20 old and 13 new replicas")


@row("ReplicaSet, completes the scaling of a ReplicaSet subresource", release="v1.21", needs="CTRL",
     codename="[sig-apps] ReplicaSet Replicaset should have a working scale subresource")
def test_replicaset_scale_subresource(apps, ns):
    labels = {"name": "sample-pod"}
    apps.create_namespaced_replica_set(ns, {"metadata": {"name": "test-rs"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": labels}, "template": _template(labels)}})
    scale = apps.read_namespaced_replica_set_scale("test-rs", ns)
    assert scale.spec.replicas == 1 and scale.status.selector == "name=sample-pod"

    def update_scale():   # the replicaset controller writes the object's status meanwhile
        scale = apps.read_namespaced_replica_set_scale("test-rs", ns)
        scale.spec.replicas = 2
        return apps.replace_namespaced_replica_set_scale("test-rs", ns, scale)
    retry_on_conflict(update_scale)
    assert apps.read_namespaced_replica_set("test-rs", ns).spec.replicas == 2
    wait_for(lambda: (apps.read_namespaced_replica_set("test-rs", ns).status.replicas or 0) == 2, timeout=60,
             what="two pods")


@row("ReplicaSet, adopt matching pods and release non-matching ones", release="v1.13", needs="CTRL",
     codename="[sig-apps] ReplicaSet should adopt matching pods on creation and release no longer matching pods")
def test_replicaset_adopts_and_releases(apps, core, ns):
    labels = {"name": "pod-adoption-release"}
    core.create_namespaced_pod(ns, {"metadata": {"name": "pod-adoption-release", "labels": labels},
                                    "spec": _template(labels)["spec"]})
    # running first, as upstream's CreateSync: a replica the ReplicaSet made meanwhile is then the one it scales away
    wait_for(lambda: core.read_namespaced_pod("pod-adoption-release", ns).status.phase == "Running",
             timeout=120, what="the orphan running")
    apps.create_namespaced_replica_set(ns, {"metadata": {"name": "pod-adoption-release"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": labels}, "template": _template(labels)}})

    def owner():
        refs = core.read_namespaced_pod("pod-adoption-release", ns).metadata.owner_references or []
        return next((r for r in refs if r.controller), None)
    wait_for(lambda: owner() is not None and owner().kind == "ReplicaSet", timeout=60, what="the pod adopted")
    core.patch_namespaced_pod("pod-adoption-release", ns, {"metadata": {"labels": {"name": "not-matching"}}})
    wait_for(lambda: owner() is None, timeout=60, what="the pod released")
    wait_for(lambda: len(core.list_namespaced_pod(ns, label_selector="name=pod-adoption-release").items) == 1,
             timeout=60, what="a replacement pod")


@row("ReplicaSet, list and delete a collection of ReplicaSets", release="v1.22", needs="API",
     codename="[sig-apps] ReplicaSet should list and delete a collection of ReplicaSets")
def test_replicaset_collection(apps, ns):
    labels = {"e2e": "rs-collection"}
    apps.create_namespaced_replica_set(ns, {"metadata": {"name": "test-rs", "labels": labels}, "spec": {
        "replicas": 0, "selector": {"matchLabels": labels}, "template": _template(labels)}})
    assert len(apps.list_replica_set_for_all_namespaces(label_selector="e2e=rs-collection").items) >= 1
    apps.delete_collection_namespaced_replica_set(ns, label_selector="e2e=rs-collection")
    wait_for(lambda: not apps.list_namespaced_replica_set(ns, label_selector="e2e=rs-collection").items,
             what="the collection gone")


@row("StatefulSet, list, patch and delete a collection of StatefulSets", release="v1.22", needs="API",
     codename="[sig-apps] StatefulSet Basic StatefulSet functionality should list, patch and delete a collection of StatefulSets")
def test_statefulset_collection_and_scale(apps, ns):
    labels = {"e2e": "sts-collection"}
    apps.create_namespaced_stateful_set(ns, {"metadata": {"name": "ss", "labels": labels}, "spec": {
        "replicas": 0, "serviceName": "test", "selector": {"matchLabels": labels}, "template": _template(labels)}})
    patched = apps.patch_namespaced_stateful_set("ss", ns, {"metadata": {"labels": {"patched": "true"}}})
    assert patched.metadata.labels["patched"] == "true"
    assert patched.spec.pod_management_policy == "OrderedReady"
    assert patched.spec.update_strategy.rolling_update.partition == 0
    scale = apps.read_namespaced_stateful_set_scale("ss", ns)
    assert scale.spec.replicas == 0
    apps.delete_collection_namespaced_stateful_set(ns, label_selector="e2e=sts-collection")
    wait_for(lambda: not apps.list_namespaced_stateful_set(ns).items, what="the collection gone")


@row("DaemonSet, list and delete a collection of DaemonSets", release="v1.22", needs="API",
     codename="[sig-apps] Daemon set [Serial] should list and delete a collection of DaemonSets")
def test_daemonset_collection(apps, ns):
    labels = {"daemonset-name": "ds-" + uuid.uuid4().hex[:5]}
    apps.create_namespaced_daemon_set(ns, {"metadata": {"name": "ds", "labels": labels}, "spec": {
        "selector": {"matchLabels": labels}, "template": _template(labels)}})
    ds = apps.read_namespaced_daemon_set("ds", ns)
    assert ds.spec.update_strategy.type == "RollingUpdate" and ds.spec.revision_history_limit == 10
    sel = ",".join(f"{k}={v}" for k, v in labels.items())
    apps.delete_collection_namespaced_daemon_set(ns, label_selector=sel)
    wait_for(lambda: not apps.list_namespaced_daemon_set(ns).items, what="the collection gone")


@row("ControllerRevision, resource lifecycle", release="v1.25", needs="CTRL",
     codename="[sig-apps] ControllerRevision [Serial] should manage the lifecycle of a ControllerRevision")
def test_controllerrevision_lifecycle(apps, ns):
    labels = {"daemonset-name": "e2e-cr"}
    apps.create_namespaced_daemon_set(ns, {"metadata": {"name": "e2e-cr", "labels": labels}, "spec": {
        "selector": {"matchLabels": labels}, "template": _template(labels)}})
    wait_for(lambda: apps.list_namespaced_controller_revision(ns, label_selector="daemonset-name=e2e-cr").items,
             timeout=60, what="the DaemonSet's first revision")
    first = apps.list_namespaced_controller_revision(ns, label_selector="daemonset-name=e2e-cr").items[0]
    assert first.revision == 1
    patched = apps.patch_namespaced_controller_revision(first.metadata.name, ns,
                                                        {"metadata": {"labels": {first.metadata.name: "patched"}}})
    assert patched.metadata.labels[first.metadata.name] == "patched"
    made = apps.create_namespaced_controller_revision(ns, {"metadata": {"name": "e2e-cr-extra", "labels": labels},
                                                           "data": first.data, "revision": first.revision + 1})
    assert made.revision == 2
    apps.delete_namespaced_controller_revision(first.metadata.name, ns)
    made.metadata.labels["e2e-cr-extra"] = "updated"
    apps.replace_namespaced_controller_revision("e2e-cr-extra", ns, made)
    apps.delete_collection_namespaced_controller_revision(ns, label_selector="e2e-cr-extra=updated")
    remaining = apps.list_namespaced_controller_revision(ns, label_selector="e2e-cr-extra=updated").items
    assert not remaining


@row("Jobs, completion with parallelism", release="v1.16", needs="CTRL+POD",
     codename="[sig-apps] Job should run a job to completion when tasks sometimes fail and are locally restarted")
def test_job_runs_to_completion(batch, ns):
    job = {"metadata": {"name": "all-succeed"}, "spec": {"parallelism": 2, "completions": 4, "backoffLimit": 6,
           "template": {"spec": {"restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 0,
                                 "containers": [{"name": "c", "image": IMAGE, "command": ["true"]}]}}}}
    batch.create_namespaced_job(ns, job)
    wait_for(lambda: (batch.read_namespaced_job_status("all-succeed", ns).status.succeeded or 0) == 4,
             timeout=180, what="4 completions")
    j = batch.read_namespaced_job("all-succeed", ns)
    assert any(c.type == "Complete" and c.status == "True" for c in j.status.conditions)


def _update_pod(core, ns, name, change):
    """Read, change, replace; again on conflict (the node and controllers write the pod too), as upstream's Update does."""
    def update():
        pod = core.read_namespaced_pod(name, ns)
        change(pod)
        return core.replace_namespaced_pod(name, ns, pod)
    return retry_on_conflict(update, attempts=10)


@row("Jobs, orphan pods, re-adoption", release="v1.16", needs="CTRL+POD",
     codename="[sig-apps] Job should adopt matching orphans and release non-matching pods")
def test_job_adopts_orphans_and_releases_pods(batch, core, ns):
    batch.create_namespaced_job(ns, {"metadata": {"name": "adopt-release"}, "spec": {
        "parallelism": 2, "completions": 2, "backoffLimit": 6, "template": _template({}, restart="Never")}})
    job = batch.read_namespaced_job("adopt-release", ns)
    selector = ",".join(f"{k}={v}" for k, v in job.spec.selector.match_labels.items())
    wait_for(lambda: (batch.read_namespaced_job_status("adopt-release", ns).status.active or 0) == 2,
             timeout=120, what="two active pods")
    name = core.list_namespaced_pod(ns, label_selector=selector).items[0].metadata.name

    def owner():
        refs = core.read_namespaced_pod(name, ns).metadata.owner_references or []
        return next((r for r in refs if r.controller), None)
    _update_pod(core, ns, name, lambda pod: setattr(pod.metadata, "owner_references", None))  # orphan it
    wait_for(lambda: owner() is not None and owner().kind == "Job" and owner().uid == job.metadata.uid,
             timeout=60, what="the Job re-adopting the pod")
    _update_pod(core, ns, name, lambda pod: setattr(pod.metadata, "labels", None))
    wait_for(lambda: owner() is None, timeout=60, what="the Job releasing the pod")


@row("Jobs, apply changes to a job status", release="v1.24", needs="API",
     codename="[sig-apps] Job should apply changes to a job status")
def test_job_status_endpoints(batch, ns):
    batch.create_namespaced_job(ns, {"metadata": {"name": "suspended"}, "spec": {"suspend": True, "template": {
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": IMAGE}]}}}})
    j = batch.read_namespaced_job_status("suspended", ns)
    assert j.spec.backoff_limit == 6 and j.spec.completion_mode == "NonIndexed"
    assert j.spec.selector.match_labels["batch.kubernetes.io/controller-uid"] == j.metadata.uid
    patched = batch.patch_namespaced_job_status("suspended", ns, {"metadata": {"annotations": {"patched": "true"}},
                                                                  "status": {"startTime": "2024-01-01T00:00:00Z"}})
    assert patched.metadata.annotations["patched"] == "true"
    def update_status():   # the job controller writes this status too: retry on conflict, as upstream does
        j = batch.read_namespaced_job_status("suspended", ns)
        j.metadata.annotations["updated"] = "true"
        return batch.replace_namespaced_job_status("suspended", ns, j)
    assert retry_on_conflict(update_status, attempts=10).metadata.annotations["updated"] == "true"


@row("CronJob API Operations", release="v1.21", needs="API",
     codename="[sig-apps] CronJob should support CronJob API operations")
def test_cronjob_api_operations(batch, ns):
    body = {"metadata": {"name": "cj", "labels": {"special-label": ns}}, "spec": {
        "schedule": "@every 1m", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": IMAGE}]}}}}}}
    created = batch.create_namespaced_cron_job(ns, body)
    assert created.spec.concurrency_policy == "Allow" and created.spec.successful_jobs_history_limit == 3
    assert batch.read_namespaced_cron_job("cj", ns).metadata.uid == created.metadata.uid
    assert len(batch.list_namespaced_cron_job(ns, label_selector=f"special-label={ns}").items) == 1
    assert any(c.metadata.name == "cj" for c in batch.list_cron_job_for_all_namespaces(
        label_selector=f"special-label={ns}").items)
    patched = batch.patch_namespaced_cron_job("cj", ns, {"metadata": {"annotations": {"patched": "true"}}})
    assert patched.metadata.annotations["patched"] == "true"
    patched.metadata.annotations["updated"] = "true"
    assert batch.replace_namespaced_cron_job("cj", ns, patched).metadata.annotations["updated"] == "true"
    st = batch.patch_namespaced_cron_job_status("cj", ns, {"status": {"lastScheduleTime": "2024-01-01T00:00:00Z"}})
    assert st.status.last_schedule_time is not None
    assert batch.read_namespaced_cron_job_status("cj", ns).status.last_schedule_time is not None
    batch.delete_namespaced_cron_job("cj", ns)
    batch.delete_collection_namespaced_cron_job(ns, label_selector=f"special-label={ns}")
    wait_for(lambda: not batch.list_namespaced_cron_job(ns).items, what="no CronJobs")


@row("PodDisruptionBudget: list and delete collection", release="v1.21", needs="API",
     codename="[sig-apps] DisruptionController should list and delete a collection of PodDisruptionBudgets")
def test_pdb_collection(policy, ns):
    for i in range(3):
        policy.create_namespaced_pod_disruption_budget(ns, {"metadata": {"name": f"pdb-{i}", "labels": {"e2e": "pdb"}},
                                                            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"foo": "bar"}}}})
    assert len(policy.list_namespaced_pod_disruption_budget(ns, label_selector="e2e=pdb").items) == 3
    policy.delete_collection_namespaced_pod_disruption_budget(ns, label_selector="e2e=pdb")
    wait_for(lambda: not policy.list_namespaced_pod_disruption_budget(ns).items, what="no budgets")


@row("PodDisruptionBudget: block an eviction until the PDB is updated to allow it", release="v1.22", needs="CTRL+POD",
     codename="[sig-apps] DisruptionController should block an eviction until the PDB is updated to allow it")
def test_pdb_blocks_eviction(policy, core, ns):
    labels = {"foo": "bar"}
    policy.create_namespaced_pod_disruption_budget(ns, {"metadata": {"name": "foo"}, "spec": {
        "minAvailable": 1, "selector": {"matchLabels": labels}}})
    core.create_namespaced_pod(ns, {"metadata": {"name": "pod-0", "labels": labels}, "spec": _template(labels)["spec"]})

    def status():
        return policy.read_namespaced_pod_disruption_budget_status("foo", ns).status
    wait_for(lambda: status().current_healthy == 1 and status().disruptions_allowed == 0, timeout=120,
             what="a healthy pod and no disruption allowed")
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "pod-0", "namespace": ns}}
    with pytest.raises(client.ApiException) as refused:
        core.create_namespaced_pod_eviction("pod-0", ns, eviction)
    assert refused.value.status == 429
    assert "Cannot evict pod as it would violate the pod's disruption budget." in refused.value.body
    policy.patch_namespaced_pod_disruption_budget("foo", ns, {"spec": {"minAvailable": 0}})
    wait_for(lambda: status().disruptions_allowed == 1, timeout=60, what="one disruption allowed")
    core.create_namespaced_pod_eviction("pod-0", ns, eviction)
