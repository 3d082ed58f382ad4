"""[sig-node] Pods (test/e2e/common/node/pods.go, pods_extended.go), API-visible rows.

Upstream runs agnhost/httpd images from a registry; no registry is reachable
here, so the pods run the local `localhost/busybox` image doing the same thing
(sleeping). The steps and assertions are upstream's."""
from __future__ import annotations

import time
import uuid

from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import Watcher, retry_on_conflict, wait_for

IMAGE = "localhost/busybox"


def _pod(name, labels=None, **spec):
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "main", "image": IMAGE, "command": ["sleep", "3600"]}], **spec}}


def _wait_running(core, ns, name, timeout=60):
    def running():
        pod = core.read_namespaced_pod(name, ns)
        return pod if pod.status.phase == "Running" else None
    return wait_for(running, timeout=timeout, what=f"pod {name} to be Running")


def _wait_gone(core, ns, name, timeout=60):
    def gone():
        try:
            core.read_namespaced_pod(name, ns)
            return False
        except client.ApiException as e:
            return e.status == 404
    wait_for(gone, timeout=timeout, what=f"pod {name} to disappear")


@row("Pods, lifecycle", release="v1.9", needs="API+POD",
     codename="[sig-node] Pods should be submitted and removed [NodeConformance]")
def test_pods_submitted_and_removed(core, ns):
    value = str(time.time_ns())
    name = "pod-submit-remove-" + uuid.uuid4().hex[:8]
    selector = f"name=foo,time={value}"
    assert core.list_namespaced_pod(ns, label_selector=selector).items == []
    listed = core.list_namespaced_pod(ns, label_selector=selector)
    w = Watcher(core.list_namespaced_pod, namespace=ns, label_selector=selector,
                resource_version=listed.metadata.resource_version)
    core.create_namespaced_pod(ns, _pod(name, {"name": "foo", "time": value}))
    assert len(core.list_namespaced_pod(ns, label_selector=selector).items) == 1
    w.expect_event("ADDED")
    _wait_running(core, ns, name)

    core.delete_namespaced_pod(name, ns, grace_period_seconds=30)
    saw_deletion_timestamp = False
    while True:
        kind, obj = w.next(timeout=90)
        if kind == "MODIFIED" and obj["metadata"].get("deletionTimestamp"):
            saw_deletion_timestamp = True
        if kind == "DELETED":
            break
    assert saw_deletion_timestamp
    assert core.list_namespaced_pod(ns, label_selector=selector).items == []
    w.stop()


@row("Pods, update", release="v1.9", needs="API+POD",
     codename="[sig-node] Pods should be updated [NodeConformance]")
def test_pods_updated(core, ns):
    value = str(time.time_ns())
    name = "pod-update-" + uuid.uuid4().hex[:8]
    core.create_namespaced_pod(ns, _pod(name, {"name": "foo", "time": value}))
    _wait_running(core, ns, name)
    new_value = "updated-" + value

    def update():   # the framework's podClient.Update: read-modify-write, retried on conflict
        pod = core.read_namespaced_pod(name, ns)
        pod.metadata.labels["time"] = new_value
        return core.replace_namespaced_pod(name, ns, pod)
    retry_on_conflict(update)
    found = core.list_namespaced_pod(ns, label_selector=f"time={new_value}").items
    assert [p.metadata.name for p in found] == [name]


@row("Pods, delete a collection", release="v1.19", needs="API+POD",
     codename="[sig-node] Pods should delete a collection of pods")
def test_pods_delete_collection(core, ns):
    for n in ("test-pod-1", "test-pod-2", "test-pod-3"):
        core.create_namespaced_pod(ns, _pod(n, {"type": "Testing"}, terminationGracePeriodSeconds=1,
                                            restartPolicy="OnFailure"))
    for n in ("test-pod-1", "test-pod-2", "test-pod-3"):
        _wait_running(core, ns, n)
    core.delete_collection_namespaced_pod(ns, label_selector="type=Testing", grace_period_seconds=1)
    wait_for(lambda: not core.list_namespaced_pod(ns, label_selector="type=Testing").items,
             timeout=60, what="the pods to be deleted")


@row("Pods, patching status", release="v1.25", needs="API+POD",
     codename="[sig-node] Pods should patch a pod status")
def test_pods_patch_status(core, ns):
    name = "pod-" + uuid.uuid4().hex[:8]
    core.create_namespaced_pod(ns, _pod(name))
    _wait_running(core, ns, name)
    patched = core.patch_namespaced_pod_status(name, ns, {
        "metadata": {"annotations": {"patchedstatus": "true"}},
        "status": {"message": "Patched by e2e test", "reason": "E2E"}})
    assert patched.metadata.annotations["patchedstatus"] == "true"
    assert patched.status.message == "Patched by e2e test"
    assert patched.status.reason == "E2E"


@row("Pods, completes the lifecycle of a Pod and the PodStatus", release="v1.20", needs="API+POD",
     codename="[sig-node] Pods should run through the lifecycle of Pods and PodStatus")
def test_pods_lifecycle_and_podstatus(core, ns):
    name = "pod-test"
    labels = {"test-pod-static": "true"}
    listed = core.list_namespaced_pod(ns, label_selector="test-pod-static=true")
    w = Watcher(core.list_namespaced_pod, namespace=ns, label_selector="test-pod-static=true",
                resource_version=listed.metadata.resource_version)
    pod = _pod(name, labels)
    pod["spec"]["terminationGracePeriodSeconds"] = 1
    core.create_namespaced_pod(ns, pod)
    w.expect_event("ADDED")
    _wait_running(core, ns, name)

    core.patch_namespaced_pod(name, ns, {"metadata": {"labels": {"test-pod": "patched"}},
                                         "spec": {"containers": [{"name": "main", "image": IMAGE}]}})
    pods = core.list_namespaced_pod(ns, label_selector="test-pod-static=true").items
    assert len(pods) == 1 and pods[0].metadata.labels["test-pod"] == "patched"

    # read-modify-write of the status, retried on conflict as upstream's step is: the
    # node agent writes the same status and may get in between
    def update_status():
        status = core.read_namespaced_pod_status(name, ns)
        status.status.conditions = [c for c in status.status.conditions if c.type != "Ready"] + [
            client.V1PodCondition(type="Ready", status="True")]
        return core.replace_namespaced_pod_status(name, ns, status)
    retry_on_conflict(update_status, attempts=10)
    got = core.read_namespaced_pod_status(name, ns)
    assert any(c.type == "Ready" and c.status == "True" for c in got.status.conditions)

    core.delete_namespaced_pod(name, ns, grace_period_seconds=1)
    w.expect_event("DELETED", timeout=60)
    w.stop()


@row("Pods, QOS", release="v1.9", needs="API",
     codename="[sig-node] Pods Extended Pods Set QOS Class should be set on Pods with matching resource requests and limits for memory and cpu")
def test_pods_qos_class_guaranteed(core, ns):
    name = "pod-qos-class-" + uuid.uuid4().hex[:8]
    res = {"cpu": "100m", "memory": "100Mi"}
    pod = _pod(name, {"name": name})
    pod["spec"]["containers"][0] = {"name": "agnhost", "image": IMAGE, "args": ["pause"],
                                    "resources": {"limits": res, "requests": res}}
    core.create_namespaced_pod(ns, pod)
    assert core.read_namespaced_pod(name, ns).status.qos_class == "Guaranteed"


@row("Pods, assigned hostip", release="v1.9", needs="POD",
     codename="[sig-node] Pods should get a host IP [NodeConformance]")
def test_pods_host_ip(core, ns):
    import ipaddress
    name = "pod-hostip-" + uuid.uuid4().hex[:8]
    core.create_namespaced_pod(ns, _pod(name))
    pod = _wait_running(core, ns, name)
    ipaddress.ip_address(pod.status.host_ip)


@row("Pods, ActiveDeadlineSeconds", release="v1.9", needs="POD",
     codename="[sig-node] Pods should allow activeDeadlineSeconds to be updated [NodeConformance]")
def test_pods_active_deadline_seconds_update(core, ns):
    name = "pod-update-activedeadlineseconds-" + uuid.uuid4().hex[:8]
    core.create_namespaced_pod(ns, _pod(name, {"name": "foo"}))
    _wait_running(core, ns, name)
    core.patch_namespaced_pod(name, ns, {"spec": {"activeDeadlineSeconds": 5}})

    def failed_deadline():
        pod = core.read_namespaced_pod(name, ns)
        return pod.status.phase == "Failed" and pod.status.reason == "DeadlineExceeded"
    wait_for(failed_deadline, timeout=60, what="the pod to fail with DeadlineExceeded")
