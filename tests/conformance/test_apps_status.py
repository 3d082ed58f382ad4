"""[sig-apps] status sub-resource and lifecycle rows that need only the API
server and controllers (Deployment, ReplicaSet, DaemonSet, StatefulSet, Job,
PodDisruptionBudget), written from their upstream descriptions."""
from __future__ import annotations

from tests.conformance.rows import row
from tests.conformance.support import retry_on_conflict, wait_for

IMAGE = "localhost/busybox"
SLEEP = ["sleep", "3600"]
CONDITION = {"type": "StatusUpdate", "status": "True", "reason": "E2E", "message": "Set from e2e test",
             "lastTransitionTime": "2024-01-01T00:00:00Z"}


def _template(labels: dict) -> dict:
    return {"metadata": {"labels": labels}, "spec": {"terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": IMAGE, "command": SLEEP}]}}


def _spec(labels: dict, replicas: int | None = 0, **extra) -> dict:
    spec = {"selector": {"matchLabels": labels}, "template": _template(labels), **extra}
    if replicas is not None:
        spec["replicas"] = replicas
    return spec


def _add_status_condition(read, replace, name, ns):
    """Read the status, append a condition and replace it; retried on conflict
    because the controller writes the same status (as upstream does)."""
    def update_status():
        obj = read(name, ns)
        obj.status.conditions = (obj.status.conditions or []) + [dict(CONDITION)]
        return replace(name, ns, obj)
    return retry_on_conflict(update_status, attempts=10)


def _has_condition(obj, type_: str, status: str = "True") -> bool:
    return any(c.type == type_ and c.status == status for c in (obj.status.conditions or []))


def _patched_condition(type_: str) -> dict:
    return {"status": {"conditions": [{"type": type_, "status": "True", "reason": "E2E"}]}}


@row("Deployment, status sub-resource", release="v1.26", needs="API",
     codename="[sig-apps] Deployment should validate Deployment Status endpoints")
def test_deployment_status_endpoints(apps, ns):
    labels = {"e2e": "status-deploy"}
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "test-deployment", "labels": labels},
                                           "spec": _spec(labels)})
    assert apps.read_namespaced_deployment_status("test-deployment", ns).metadata.name == "test-deployment"
    updated = _add_status_condition(apps.read_namespaced_deployment_status,
                                    apps.replace_namespaced_deployment_status, "test-deployment", ns)
    assert _has_condition(updated, "StatusUpdate")
    patched = apps.patch_namespaced_deployment_status("test-deployment", ns, _patched_condition("StatusPatched"))
    assert _has_condition(patched, "StatusPatched")
    assert _has_condition(apps.read_namespaced_deployment_status("test-deployment", ns), "StatusPatched")


@row("ReplicaSet, status sub-resource", release="v1.26", needs="API",
     codename="[sig-apps] ReplicaSet should validate Replicaset Status endpoints")
def test_replicaset_status_endpoints(apps, ns):
    labels = {"e2e": "status-rs"}
    apps.create_namespaced_replica_set(ns, {"metadata": {"name": "test-rs", "labels": labels}, "spec": _spec(labels)})
    assert apps.read_namespaced_replica_set_status("test-rs", ns).metadata.name == "test-rs"
    updated = _add_status_condition(apps.read_namespaced_replica_set_status,
                                    apps.replace_namespaced_replica_set_status, "test-rs", ns)
    assert _has_condition(updated, "StatusUpdate")
    patched = apps.patch_namespaced_replica_set_status("test-rs", ns, _patched_condition("StatusPatched"))
    assert _has_condition(patched, "StatusPatched")


@row("ReplicaSet, completes the lifecycle of a ReplicaSet", release="v1.21", needs="CTRL",
     codename="[sig-apps] ReplicaSet Replace and Patch tests")
def test_replicaset_replace_and_patch(apps, ns):
    labels = {"name": "sample-pod"}
    apps.create_namespaced_replica_set(ns, {"metadata": {"name": "test-rs"}, "spec": _spec(labels, replicas=1)})
    wait_for(lambda: (apps.read_namespaced_replica_set("test-rs", ns).status.replicas or 0) == 1, timeout=60,
             what="one replica")
    def update():   # the replicaset controller writes the status meanwhile
        rs = apps.read_namespaced_replica_set("test-rs", ns)
        rs.spec.replicas = 2
        return apps.replace_namespaced_replica_set("test-rs", ns, rs)
    assert retry_on_conflict(update).spec.replicas == 2
    wait_for(lambda: (apps.read_namespaced_replica_set("test-rs", ns).status.replicas or 0) == 2, timeout=60,
             what="two replicas after the replace")
    patched = apps.patch_namespaced_replica_set("test-rs", ns, {"spec": {"replicas": 3}})
    assert patched.spec.replicas == 3
    wait_for(lambda: (apps.read_namespaced_replica_set("test-rs", ns).status.replicas or 0) == 3, timeout=60,
             what="three replicas after the patch")


@row("DaemonSet, status sub-resource", release="v1.22", needs="API",
     codename="[sig-apps] Daemon set [Serial] should verify changes to a daemon set status")
def test_daemonset_status_endpoints(apps, ns):
    labels = {"daemonset-name": "daemon-set-status"}
    apps.create_namespaced_daemon_set(ns, {"metadata": {"name": "daemon-set", "labels": labels},
                                           "spec": _spec(labels, replicas=None)})
    assert apps.read_namespaced_daemon_set_status("daemon-set", ns).metadata.name == "daemon-set"
    updated = _add_status_condition(apps.read_namespaced_daemon_set_status,
                                    apps.replace_namespaced_daemon_set_status, "daemon-set", ns)
    assert _has_condition(updated, "StatusUpdate")
    patched = apps.patch_namespaced_daemon_set_status("daemon-set", ns, _patched_condition("StatusPatched"))
    assert _has_condition(patched, "StatusPatched")


@row("StatefulSet resource Replica scaling", release="v1.16", needs="API",
     codename="[sig-apps] StatefulSet Basic StatefulSet functionality should have a working scale subresource")
def test_statefulset_scale_subresource(apps, ns):
    labels = {"e2e": "sts-scale"}
    apps.create_namespaced_stateful_set(ns, {"metadata": {"name": "ss"},
                                             "spec": _spec(labels, replicas=0, serviceName="test")})
    assert apps.read_namespaced_stateful_set_scale("ss", ns).spec.replicas == 0

    def update_scale():   # the statefulset controller writes the status meanwhile
        scale = apps.read_namespaced_stateful_set_scale("ss", ns)
        scale.spec.replicas = 2
        return apps.replace_namespaced_stateful_set_scale("ss", ns, scale)
    assert retry_on_conflict(update_scale).spec.replicas == 2
    assert apps.read_namespaced_stateful_set("ss", ns).spec.replicas == 2
    patched = apps.patch_namespaced_stateful_set_scale("ss", ns, {"spec": {"replicas": 4}})
    assert patched.spec.replicas == 4
    assert apps.read_namespaced_stateful_set("ss", ns).spec.replicas == 4


@row("StatefulSet, status sub-resource", release="v1.26", needs="API",
     codename="[sig-apps] StatefulSet Basic StatefulSet functionality should validate Statefulset Status endpoints")
def test_statefulset_status_endpoints(apps, ns):
    labels = {"e2e": "sts-status"}
    apps.create_namespaced_stateful_set(ns, {"metadata": {"name": "ss"},
                                             "spec": _spec(labels, replicas=0, serviceName="test")})
    assert apps.read_namespaced_stateful_set_status("ss", ns).metadata.name == "ss"
    updated = _add_status_condition(apps.read_namespaced_stateful_set_status,
                                    apps.replace_namespaced_stateful_set_status, "ss", ns)
    assert _has_condition(updated, "StatusUpdate")
    patched = apps.patch_namespaced_stateful_set_status("ss", ns, _patched_condition("StatusPatched"))
    assert _has_condition(patched, "StatusPatched")


@row("Jobs, manage lifecycle", release="v1.25", needs="API",
     codename="[sig-apps] Job should manage the lifecycle of a job")
def test_job_lifecycle(batch, ns):
    label = {"e2e-job-label": "lifecycle"}
    batch.create_namespaced_job(ns, {"metadata": {"name": "e2e-job", "labels": label}, "spec": {
        "suspend": True, "template": {"spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                                               "containers": [{"name": "c", "image": IMAGE, "command": SLEEP}]}}}})
    patched = batch.patch_namespaced_job("e2e-job", ns, {"metadata": {"labels": {"e2e-job-patched": "true"}}})
    assert patched.metadata.labels["e2e-job-patched"] == "true"
    def update():   # the job controller writes the object too
        j = batch.read_namespaced_job("e2e-job", ns)
        j.metadata.annotations = {**(j.metadata.annotations or {}), "updated": "true"}
        return batch.replace_namespaced_job("e2e-job", ns, j)
    assert retry_on_conflict(update, attempts=10).metadata.annotations["updated"] == "true"
    assert any(x.metadata.name == "e2e-job" for x in batch.list_job_for_all_namespaces(
        label_selector="e2e-job-label=lifecycle").items)
    batch.delete_collection_namespaced_job(ns, label_selector="e2e-job-label=lifecycle",
                                           propagation_policy="Background")
    wait_for(lambda: not batch.list_namespaced_job(ns, label_selector="e2e-job-label=lifecycle").items,
             what="the job deleted")


def _pdb(name: str, **spec) -> dict:
    return {"metadata": {"name": name}, "spec": {"selector": {"matchLabels": {"foo": "bar"}}, **spec}}


@row("PodDisruptionBudget: create, update, patch, and delete object", release="v1.21", needs="API",
     codename="[sig-apps] DisruptionController should create a PodDisruptionBudget")
def test_pdb_create_update_patch_delete(policy, ns):
    policy.create_namespaced_pod_disruption_budget(ns, _pdb("foo", minAvailable="2%"))
    def update():   # the disruption controller writes the same object's status
        pdb = policy.read_namespaced_pod_disruption_budget("foo", ns)
        pdb.spec.min_available = 2
        return policy.replace_namespaced_pod_disruption_budget("foo", ns, pdb)
    retry_on_conflict(update, attempts=10)
    assert policy.read_namespaced_pod_disruption_budget("foo", ns).spec.min_available == 2
    patched = policy.patch_namespaced_pod_disruption_budget("foo", ns, {"spec": {"minAvailable": 3}})
    assert patched.spec.min_available == 3
    policy.delete_namespaced_pod_disruption_budget("foo", ns)
    wait_for(lambda: not policy.list_namespaced_pod_disruption_budget(ns).items, what="the budget deleted")


@row("PodDisruptionBudget: Status updates", release="v1.21", needs="CTRL",
     codename="[sig-apps] DisruptionController should observe PodDisruptionBudget status updated")
def test_pdb_status_observed(policy, ns):
    policy.create_namespaced_pod_disruption_budget(ns, _pdb("foo", minAvailable=1))

    def observed():
        st = policy.read_namespaced_pod_disruption_budget("foo", ns).status
        return st is not None and (st.observed_generation or 0) >= 1 and st.disruptions_allowed == 0
    wait_for(observed, timeout=60, what="the controller observing the budget")


@row("PodDisruptionBudget: update and patch status", release="v1.21", needs="API",
     codename="[sig-apps] DisruptionController should update/patch PodDisruptionBudget status")
def test_pdb_status_update_and_patch(policy, ns):
    policy.create_namespaced_pod_disruption_budget(ns, _pdb("pdb-status", minAvailable=1))
    assert policy.read_namespaced_pod_disruption_budget_status("pdb-status", ns).metadata.name == "pdb-status"
    updated = _add_status_condition(policy.read_namespaced_pod_disruption_budget_status,
                                    policy.replace_namespaced_pod_disruption_budget_status, "pdb-status", ns)
    assert _has_condition(updated, "StatusUpdate")
    patched = policy.patch_namespaced_pod_disruption_budget_status(
        "pdb-status", ns, {"status": {"conditions": [{"type": "StatusPatched", "status": "True", "reason": "E2E",
                                                      "message": "patched", "lastTransitionTime": "2024-01-01T00:00:00Z"}]}})
    assert _has_condition(patched, "StatusPatched")
