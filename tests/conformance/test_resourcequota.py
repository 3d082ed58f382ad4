"""[sig-api-machinery] ResourceQuota (test/e2e/apimachinery/resource_quota.go)."""
from __future__ import annotations

import base64
import time
import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import retry_on_conflict, wait_for

HARD = {"pods": "5", "services": "10", "ephemeral-storage": "50Gi", "services.nodeports": "1", "services.loadbalancers": "1",
        "cpu": "1", "memory": "500Mi", "configmaps": "10", "persistentvolumeclaims": "10",
        "requests.storage": "10Gi", "replicationcontrollers": "10", "resourcequotas": "1", "secrets": "10",
        "requests.example.com/dongle": "3"}


def _quota(name="test-quota", hard=None, **spec):
    return {"metadata": {"name": name}, "spec": {"hard": dict(hard or HARD), **spec}}


def _wait_used(core, ns, name, expected: dict, timeout=30):
    def matches():
        used = core.read_namespaced_resource_quota(name, ns).status.used or {}
        return all(used.get(k) == v for k, v in expected.items())
    wait_for(matches, timeout=timeout, what=f"quota {name} used == {expected}")


def _stable_count(list_func, ns) -> int:
    """As upstream: count the objects until the number has not changed for 5 s
    (controllers may still be adding kube-root-ca.crt and the like)."""
    found, unchanged = -1, 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        n = len(list_func(ns).items)
        if n == found:
            unchanged += 1
            if unchanged > 4:
                return found
        else:
            found, unchanged = n, 0
        time.sleep(1)
    return found


def _quota_baseline(core, ns):
    """Create the quota and wait for its status (as upstream: resourcequotas counted)."""
    existing = len(core.list_namespaced_resource_quota(ns).items)
    core.create_namespaced_resource_quota(ns, _quota())
    _wait_used(core, ns, "test-quota", {"resourcequotas": str(existing + 1)})


@row("ResourceQuota, object count quota, resourcequotas", release="v1.16", needs="API+CTRL",
     codename="[sig-api-machinery] ResourceQuota should create a ResourceQuota and ensure its status is promptly calculated.")
def test_quota_status_promptly_calculated(core, ns):
    _quota_baseline(core, ns)


@row("ResourceQuota, object count quota, configmap", release="v1.16", needs="API+CTRL",
     codename="[sig-api-machinery] ResourceQuota should create a ResourceQuota and capture the life of a configMap.")
def test_quota_configmap(core, ns):
    found = _stable_count(core.list_namespaced_config_map, ns)
    _quota_baseline(core, ns)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "test-configmap"}, "data": {"a": "b"}})
    _wait_used(core, ns, "test-quota", {"configmaps": str(found + 1)})
    core.delete_namespaced_config_map("test-configmap", ns)
    _wait_used(core, ns, "test-quota", {"configmaps": str(found)})


@row("ResourceQuota, object count quota, secret", release="v1.16", needs="API+CTRL",
     codename="[sig-api-machinery] ResourceQuota should create a ResourceQuota and capture the life of a secret.")
def test_quota_secret(core, ns):
    found = _stable_count(core.list_namespaced_secret, ns)
    _quota_baseline(core, ns)
    core.create_namespaced_secret(ns, {"metadata": {"name": "test-secret"},
                                       "data": {"a": base64.b64encode(b"b").decode()}})
    _wait_used(core, ns, "test-quota", {"secrets": str(found + 1)})
    core.delete_namespaced_secret("test-secret", ns)
    _wait_used(core, ns, "test-quota", {"secrets": str(found)})


@row("ResourceQuota, object count quota, service", release="v1.16", needs="API+CTRL",
     codename="[sig-api-machinery] ResourceQuota should create a ResourceQuota and capture the life of a service.")
def test_quota_service(core, ns):
    _quota_baseline(core, ns)
    core.create_namespaced_service(ns, {"metadata": {"name": "test-service"},
                                        "spec": {"ports": [{"port": 80, "targetPort": 80}]}})
    core.create_namespaced_service(ns, {"metadata": {"name": "test-service-np"},
                                        "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": 80}]}})
    _wait_used(core, ns, "test-quota", {"services": "2", "services.nodeports": "1", "services.loadbalancers": "0"})
    with pytest.raises(client.ApiException) as err:   # a second NodePort service exceeds the quota
        core.create_namespaced_service(ns, {"metadata": {"name": "test-service-np2"},
                                            "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": 80}]}})
    assert err.value.status == 403
    core.delete_namespaced_service("test-service", ns)
    core.delete_namespaced_service("test-service-np", ns)
    _wait_used(core, ns, "test-quota", {"services": "0", "services.nodeports": "0"})


@row("ResourceQuota, object count quota, replicationController", release="v1.16", needs="API+CTRL",
     codename="[sig-api-machinery] ResourceQuota should create a ResourceQuota and capture the life of a replication controller.")
def test_quota_replication_controller(core, ns):
    _quota_baseline(core, ns)
    core.create_namespaced_replication_controller(ns, {"metadata": {"name": "test-rc"}, "spec": {
        "replicas": 0, "selector": {"name": "test-rc"},
        "template": {"metadata": {"labels": {"name": "test-rc"}},
                     "spec": {"containers": [{"name": "busybox", "image": "localhost/busybox"}]}}}})
    _wait_used(core, ns, "test-quota", {"replicationcontrollers": "1"})
    core.delete_namespaced_replication_controller("test-rc", ns)
    _wait_used(core, ns, "test-quota", {"replicationcontrollers": "0"})


@row("ResourceQuota, object count quota, pod", release="v1.16", needs="API+CTRL",
     codename="[sig-api-machinery] ResourceQuota should create a ResourceQuota and capture the life of a pod.")
def test_quota_pod(core, ns):
    _quota_baseline(core, ns)
    requests = {"cpu": "500m", "memory": "252Mi", "ephemeral-storage": "30Gi", "example.com/dongle": "2"}
    limits = {"example.com/dongle": "2"}

    def pod(name, req, lim):
        return {"metadata": {"name": name}, "spec": {"containers": [
            {"name": "pause", "image": "localhost/busybox", "resources": {"requests": req, "limits": lim}}]}}

    core.create_namespaced_pod(ns, pod("test-pod", requests, limits))
    # usage is reported under the names the quota's hard limits use (cpu, not requests.cpu)
    _wait_used(core, ns, "test-quota", {"pods": "1", "cpu": "500m", "memory": "252Mi",
                                        "ephemeral-storage": "30Gi", "requests.example.com/dongle": "2"})
    with pytest.raises(client.ApiException) as err:   # exceeds the remaining cpu
        core.create_namespaced_pod(ns, pod("fail-pod", {"cpu": "600m", "memory": "100Mi"}, {}))
    assert err.value.status == 403
    with pytest.raises(client.ApiException) as err:   # requests cannot be changed in place
        core.patch_namespaced_pod("test-pod", ns, {"spec": {"containers": [
            {"name": "pause", "resources": {"requests": {"cpu": "100m"}}}]}})
    assert err.value.status == 422
    core.delete_namespaced_pod("test-pod", ns, grace_period_seconds=0)
    _wait_used(core, ns, "test-quota", {"pods": "0", "cpu": "0", "memory": "0", "ephemeral-storage": "0"})


@row("ResourceQuota, update and delete", release="v1.16", needs="API",
     codename="[sig-api-machinery] ResourceQuota should be able to update and delete ResourceQuota.")
def test_quota_update_and_delete(core, ns):
    core.create_namespaced_resource_quota(ns, _quota(hard={"cpu": "1", "memory": "500Mi"}))
    assert core.read_namespaced_resource_quota("test-quota", ns).spec.hard == {"cpu": "1", "memory": "500Mi"}

    def update():   # the quota controller writes the status of a new quota meanwhile
        quota = core.read_namespaced_resource_quota("test-quota", ns)
        quota.spec.hard = {"cpu": "2", "memory": "1Gi"}
        return core.replace_namespaced_resource_quota("test-quota", ns, quota)
    updated = retry_on_conflict(update)
    assert updated.spec.hard == {"cpu": "2", "memory": "1Gi"}
    core.delete_namespaced_resource_quota("test-quota", ns)
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_resource_quota("test-quota", ns)
    assert err.value.status == 404


@row("ResourceQuota, manage lifecycle of a ResourceQuota", release="v1.25", needs="API",
     codename="[sig-api-machinery] ResourceQuota should manage the lifecycle of a ResourceQuota")
def test_quota_lifecycle(core, ns):
    name = "e2e-quota-" + uuid.uuid4().hex[:5]
    label = {"e2e-rq-label": name}
    core.create_namespaced_resource_quota(ns, {"metadata": {"name": name, "labels": label},
                                               "spec": {"hard": {"cpu": "1", "memory": "500Mi"}}})
    found = core.list_resource_quota_for_all_namespaces(label_selector=f"e2e-rq-label={name}").items
    assert len(found) == 1
    patched = core.patch_namespaced_resource_quota(name, ns, {"metadata": {"labels": {"rq": "patched"}},
                                                              "spec": {"hard": {"memory": "750Mi"}}})
    assert patched.metadata.labels["rq"] == "patched" and patched.spec.hard["memory"] == "750Mi"
    core.delete_collection_namespaced_resource_quota(ns, label_selector=f"e2e-rq-label={name}")
    assert core.list_namespaced_resource_quota(ns, label_selector=f"e2e-rq-label={name}").items == []


@row("ResourceQuota, apply changes to a ResourceQuota status", release="v1.26", needs="API",
     codename="[sig-api-machinery] ResourceQuota should apply changes to a resourcequota status")
def test_quota_status(core, ns):
    name = "e2e-rq-status-" + uuid.uuid4().hex[:5]
    hard = {"cpu": "500m", "memory": "500Mi"}
    core.create_namespaced_resource_quota(ns, {"metadata": {"name": name}, "spec": {"hard": hard}})
    def update_status():   # the quota controller writes the status of a new quota too
        quota = core.read_namespaced_resource_quota(name, ns)
        quota.status = client.V1ResourceQuotaStatus(hard=hard, used={"cpu": "0", "memory": "0"})
        return core.replace_namespaced_resource_quota_status(name, ns, quota)
    updated = retry_on_conflict(update_status)
    assert updated.status.hard == hard and updated.spec.hard == hard

    new_hard = {"cpu": "1", "memory": "1Gi"}
    patched = core.patch_namespaced_resource_quota(name, ns, {"spec": {"hard": new_hard}})
    assert patched.spec.hard == new_hard
    patched = core.patch_namespaced_resource_quota_status(name, ns, {"status": {"hard": new_hard}})
    assert patched.status.hard == new_hard

    status = core.read_namespaced_resource_quota_status(name, ns)
    assert status.status.hard == status.spec.hard == new_hard

    other = {"cpu": "2", "memory": "2Gi"}
    repatched = core.patch_namespaced_resource_quota_status(name, ns, {"spec": {"hard": other},
                                                                       "status": {"hard": other}})
    assert repatched.status.hard == other
    assert repatched.spec.hard == new_hard, "patching /status must not change the spec"
