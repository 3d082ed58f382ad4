"""[sig-apps] ReplicationController API rows (test/e2e/apps/rc.go)."""
from __future__ import annotations

import uuid

from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import Watcher, retry_on_conflict, wait_for

IMAGE = "localhost/busybox"


def _status_of(w: Watcher, predicate, timeout=120):
    while True:
        kind, obj = w.next(timeout=timeout)
        if predicate(obj.get("status") or {}):
            return obj


@row("Replication Controller, lifecycle", release="v1.20", needs="CTRL+POD",
     codename="[sig-apps] ReplicationController should test the lifecycle of a ReplicationController")
def test_rc_lifecycle(core, ns):
    name = "rc-test"
    labels = {"test-rc-static": "true"}
    listed = core.list_namespaced_replication_controller(ns, label_selector="test-rc-static=true")
    w = Watcher(core.list_namespaced_replication_controller, namespace=ns, label_selector="test-rc-static=true",
                resource_version=listed.metadata.resource_version)
    core.create_namespaced_replication_controller(ns, {"metadata": {"name": name, "labels": labels}, "spec": {
        "replicas": 1, "selector": labels,
        "template": {"metadata": {"name": name, "labels": labels},
                     "spec": {"containers": [{"name": name, "image": IMAGE, "command": ["sleep", "3600"]}]}}}})
    w.expect_event("ADDED", timeout=60)
    _status_of(w, lambda s: s.get("replicas") == 1 and s.get("readyReplicas") == 1)

    patched = core.patch_namespaced_replication_controller(name, ns, {"metadata": {"labels": {"test-rc": "patched"}}})
    assert patched.metadata.labels["test-rc"] == "patched"
    w.expect_event("MODIFIED", timeout=60)

    status = core.patch_namespaced_replication_controller_status(
        name, ns, {"status": {"readyReplicas": 0, "availableReplicas": 0}})
    assert (status.status.ready_replicas or 0) == 0
    w.expect_event("MODIFIED", timeout=60)
    _status_of(w, lambda s: s.get("replicas") == 1)
    assert core.read_namespaced_replication_controller_status(name, ns).status.replicas == 1

    core.patch_namespaced_replication_controller_scale(name, ns, {"spec": {"replicas": 2}})
    w.expect_event("MODIFIED", timeout=60)
    _status_of(w, lambda s: s.get("replicas") == 2 and s.get("readyReplicas") == 2)

    assert core.read_namespaced_replication_controller(name, ns).metadata.labels["test-rc"] == "patched"

    def update_status():   # the replication controller writes the status too
        rc = core.read_namespaced_replication_controller(name, ns)
        rc.status.available_replicas = 1
        rc.status.ready_replicas = 1
        return core.replace_namespaced_replication_controller_status(name, ns, rc)
    retry_on_conflict(update_status)
    w.expect_event("MODIFIED", timeout=60)

    rcs = core.list_replication_controller_for_all_namespaces(label_selector="test-rc-static=true").items
    assert any(r.metadata.name == name and r.metadata.namespace == ns and
               r.metadata.labels.get("test-rc") == "patched" for r in rcs)
    core.delete_collection_namespaced_replication_controller(ns, label_selector="test-rc-static=true")
    w.expect_event("DELETED", timeout=60)
    w.stop()


@row("Replication Controller, get and update ReplicationController scale", release="v1.26", needs="CTRL",
     codename="[sig-apps] ReplicationController should get and update a ReplicationController scale")
def test_rc_scale_subresource(core, ns):
    name = "e2e-rc-" + uuid.uuid4().hex[:5]
    core.create_namespaced_replication_controller(ns, {"metadata": {"name": name}, "spec": {
        "replicas": 1,
        "template": {"metadata": {"labels": {"name": name}},
                     "spec": {"terminationGracePeriodSeconds": 0,
                              "containers": [{"name": "httpd", "image": IMAGE}]}}}})

    def replicas(n):
        # as upstream reads it: an absent status counts as 0 replicas
        return lambda: ((core.read_namespaced_replication_controller(name, ns).status or
                         client.V1ReplicationControllerStatus(replicas=0)).replicas or 0) == n
    wait_for(replicas(1), timeout=60, what="status.replicas == 1")
    scale = core.read_namespaced_replication_controller_scale(name, ns)
    assert scale.status.replicas == 1
    scale.metadata.resource_version = None  # unconditional update, as upstream
    scale.spec.replicas = 2
    core.replace_namespaced_replication_controller_scale(name, ns, scale)
    wait_for(replicas(2), timeout=60, what="status.replicas == 2")


@row("Replication Controller, check for issues like exceeding allocated quota", release="v1.15", needs="CTRL",
     codename="[sig-apps] ReplicationController should surface a failure condition on a common issue "
              "like exceeded quota")
def test_rc_surfaces_exceeded_quota(core, ns):
    name = "condition-test"
    # "Creating quota that allows only two pods to run in the current namespace"
    core.create_namespaced_resource_quota(ns, {"metadata": {"name": name}, "spec": {"hard": {"pods": "2"}}})
    wait_for(lambda: (core.read_namespaced_resource_quota(name, ns).status.hard or {}).get("pods") == "2",
             timeout=60, what="the quota's status")
    # "Creating rc that asks for more than the allowed pod quota"
    rc = core.create_namespaced_replication_controller(ns, {"metadata": {"name": name}, "spec": {
        "replicas": 3, "selector": {"name": name}, "template": {"metadata": {"labels": {"name": name}}, "spec": {
            "terminationGracePeriodSeconds": 0, "containers": [{"name": "httpd", "image": IMAGE}]}}}})

    def failure(generation: int, present: bool):
        def check():
            got = core.read_namespaced_replication_controller(name, ns)
            if (got.status.observed_generation or 0) < generation:
                return False
            cond = next((c for c in got.status.conditions or [] if c.type == "ReplicaFailure"), None)
            return (cond is not None) == present and (cond or True)
        return check
    cond = wait_for(failure(rc.metadata.generation, True), timeout=60, what="the ReplicaFailure condition")
    assert cond.status == "True" and cond.reason == "FailedCreate" and "exceeded quota" in cond.message
    # "Scaling down rc to satisfy pod quota", then "Checking rc has no failure condition set"
    scaled = core.patch_namespaced_replication_controller(name, ns, {"spec": {"replicas": 2}})
    wait_for(failure(scaled.metadata.generation, False), timeout=60, what="the condition cleared")
