"""node.k8s.io rows: the RuntimeClass API and the RuntimeClass admission plugin ([sig-node])."""
from __future__ import annotations

import json

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import wait_for


@row("RuntimeClass API", release="v1.20", needs="API",
     codename="[sig-node] RuntimeClass should support RuntimeClasses API operations")
def test_runtimeclass_api(api, ns):
    node = client.NodeV1Api(api)
    label = f"e2e-rc={ns}"
    made = [node.create_runtime_class({"metadata": {"name": f"{ns}-{i}", "labels": {"e2e-rc": ns}}, "handler": "runc"})
            for i in range(1, 4)]
    got = node.read_runtime_class(made[0].metadata.name)
    assert got.handler == "runc"
    assert len(node.list_runtime_class(label_selector=label).items) == 3
    patched = node.patch_runtime_class(made[0].metadata.name, {"metadata": {"annotations": {"patched": "true"}}})
    assert patched.metadata.annotations["patched"] == "true"
    got = node.read_runtime_class(made[1].metadata.name)
    got.metadata.annotations = {"updated": "true"}
    assert node.replace_runtime_class(made[1].metadata.name, got).metadata.annotations["updated"] == "true"
    with pytest.raises(client.ApiException) as err:  # the handler is fixed once created
        node.patch_runtime_class(made[2].metadata.name, {"handler": "other"})
    assert err.value.status == 422
    node.delete_runtime_class(made[0].metadata.name)
    with pytest.raises(client.ApiException) as err:
        node.read_runtime_class(made[0].metadata.name)
    assert err.value.status == 404
    node.delete_collection_runtime_class(label_selector=label)
    assert not node.list_runtime_class(label_selector=label).items


@row("Pod with the non-existing RuntimeClass is rejected", release="v1.20", needs="API",
     codename="[sig-node] RuntimeClass should reject a Pod requesting a non-existent RuntimeClass")
def test_pod_with_missing_runtimeclass_rejected(api, core, ns):
    client.NodeV1Api(api).list_runtime_class()  # the API must exist for the row to mean anything
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_pod(ns, {"metadata": {"name": "rc-pod"}, "spec": {
            "runtimeClassName": "does-not-exist", "containers": [{"name": "c", "image": "localhost/busybox"}]}})
    assert err.value.status == 403


@row("Pod with the deleted RuntimeClass is rejected", release="v1.20", needs="API",
     codename="[sig-node] RuntimeClass should reject a Pod requesting a deleted RuntimeClass")
def test_pod_with_deleted_runtimeclass_rejected(api, core, ns):
    node = client.NodeV1Api(api)
    name = f"{ns}-deleted"
    node.create_runtime_class({"metadata": {"name": name}, "handler": "runc"})
    node.delete_runtime_class(name)

    def gone():
        try:
            node.read_runtime_class(name)
        except client.ApiException as e:
            return e.status == 404
        return False
    wait_for(gone, what="runtime class deleted")
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_pod(ns, {"metadata": {"name": "rc-pod"}, "spec": {
            "runtimeClassName": name, "containers": [{"name": "c", "image": "localhost/busybox"}]}})
    assert err.value.status == 403
    assert f'RuntimeClass "{name}" not found' in json.loads(err.value.body)["message"]


def _scheduled_pod(core, ns, name, rc_name):
    core.create_namespaced_pod(ns, {"metadata": {"name": name}, "spec": {
        "runtimeClassName": rc_name, "terminationGracePeriodSeconds": 0,
        "containers": [{"name": "c", "image": "localhost/busybox", "command": ["sleep", "3600"],
                        "resources": {"limits": {"cpu": "100m", "memory": "100Mi"}}}]}})
    return wait_for(lambda: (lambda p: p if p.spec.node_name else None)(core.read_namespaced_pod(name, ns)),
                    timeout=60, what=f"{name} scheduled")


@row("RuntimeClass, schedule a Pod without PodOverhead", release="v1.24", needs="API+CTRL",
     codename="[sig-node] RuntimeClass should schedule a Pod requesting a RuntimeClass without PodOverhead "
              "[NodeConformance]")
def test_pod_with_runtimeclass_without_overhead_is_scheduled(api, core, ns):
    node = client.NodeV1Api(api)
    name = f"{ns}-plain"
    node.create_runtime_class({"metadata": {"name": name}, "handler": "runc"})
    try:
        pod = _scheduled_pod(core, ns, "rc-plain", name)
        assert pod.spec.overhead is None
        core.delete_namespaced_pod("rc-plain", ns, grace_period_seconds=0)
    finally:
        node.delete_runtime_class(name)


@row("RuntimeClass, schedule a Pod and initialize its Overhead", release="v1.24", needs="API+CTRL",
     codename="[sig-node] RuntimeClass should schedule a Pod requesting a RuntimeClass and initialize its Overhead "
              "[NodeConformance]")
def test_pod_with_runtimeclass_gets_overhead_and_is_scheduled(api, core, ns):
    node = client.NodeV1Api(api)
    name = f"{ns}-overhead"
    node.create_runtime_class({"metadata": {"name": name}, "handler": "runc",
                               "overhead": {"podFixed": {"cpu": "10m", "memory": "1Mi"}}})
    try:
        pod = _scheduled_pod(core, ns, "rc-overhead", name)
        assert pod.spec.overhead == {"cpu": "10m", "memory": "1Mi"}
        core.delete_namespaced_pod("rc-overhead", ns, grace_period_seconds=0)
    finally:
        node.delete_runtime_class(name)
