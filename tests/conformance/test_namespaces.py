"""[sig-api-machinery] Namespaces (test/e2e/apimachinery/namespace.go)."""
from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import wait_for


@pytest.fixture
def scratch_namespace(core):
    """A namespace created by the test itself (these tests create theirs by hand)."""
    names = []

    def make(prefix):
        name = f"{prefix}-{uuid.uuid4().hex[:5]}"
        core.create_namespace({"metadata": {"name": name}})
        names.append(name)
        return name

    yield make
    for name in names:
        try:
            core.delete_namespace(name)
        except client.ApiException:
            pass


@row("Namespace patching", release="v1.18", needs="API",
     codename="[sig-api-machinery] Namespaces [Serial] should patch a Namespace")
def test_namespace_patching(core, scratch_namespace):
    name = scratch_namespace("nspatchtest")
    core.patch_namespace(name, {"metadata": {"labels": {"testLabel": "testValue"}}})
    got = core.read_namespace(name)
    assert got.metadata.labels["testLabel"] == "testValue"


@row("Namespace, apply update to a namespace", release="v1.26", needs="API",
     codename="[sig-api-machinery] Namespaces [Serial] should apply an update to a Namespace")
def test_namespace_update(core, scratch_namespace):
    name = scratch_namespace("e2e-ns")
    ns = core.read_namespace(name)
    ns.metadata.labels = dict(ns.metadata.labels or {}, **{f"e2e-{name}": "updated"})
    updated = core.replace_namespace(name, ns)
    assert updated.metadata.labels[f"e2e-{name}"] == "updated"


@row("Namespace, apply finalizer to a namespace", release="v1.26", needs="API",
     codename="[sig-api-machinery] Namespaces [Serial] should apply a finalizer to a Namespace")
def test_namespace_finalizer(core, scratch_namespace):
    name = scratch_namespace("e2e-ns")
    fake = "e2e.example.com/fakeFinalizer"
    ns = core.read_namespace(name)
    ns.spec.finalizers = list(ns.spec.finalizers or []) + [fake]
    updated = core.replace_namespace_finalize(name, ns)
    assert fake in updated.spec.finalizers
    assert fake in core.read_namespace(name).spec.finalizers

    ns = core.read_namespace(name)
    ns.spec.finalizers = [f for f in ns.spec.finalizers if f != fake]
    updated = core.replace_namespace_finalize(name, ns)
    assert fake not in (updated.spec.finalizers or [])
    assert fake not in (core.read_namespace(name).spec.finalizers or [])


@row("Namespace, apply changes to a namespace status", release="v1.25", needs="API",
     codename="[sig-api-machinery] Namespaces [Serial] should apply changes to a namespace status")
def test_namespace_status(core, scratch_namespace):
    name = scratch_namespace("e2e-ns")
    status = core.read_namespace_status(name)
    assert status.status.phase == "Active"

    condition = {"type": "StatusPatch", "status": "True", "reason": "E2E", "message": "Patched by an e2e test"}
    patched = core.patch_namespace_status(name, {"status": {"conditions": [condition]}})
    assert any(c.type == "StatusPatch" and c.reason == "E2E" for c in patched.status.conditions)

    ns = core.read_namespace_status(name)
    ns.status.conditions.append(client.V1NamespaceCondition(
        type="StatusUpdate", status="True", reason="E2E", message="Updated by an e2e test"))
    updated = core.replace_namespace_status(name, ns)
    assert any(c.type == "StatusUpdate" and c.message == "Updated by an e2e test" for c in updated.status.conditions)


def _wait_namespace_gone(core, name, timeout=120):
    def gone():
        try:
            core.read_namespace(name)
            return False
        except client.ApiException as e:
            return e.status == 404
    wait_for(gone, timeout=timeout, interval=0.5, what=f"namespace {name} to be deleted")


@row("namespace-deletion-removes-pods", release="v1.11", needs="CTRL",
     codename="[sig-api-machinery] Namespaces [Serial] should ensure that all pods are removed when a namespace is deleted")
def test_namespace_deletion_removes_pods(core):
    name = f"nsdeletetest-{uuid.uuid4().hex[:5]}"
    core.create_namespace({"metadata": {"name": name}})
    wait_for(lambda: _has_default_sa(core, name), what="the default service account")
    core.create_namespaced_pod(name, {"metadata": {"name": "test-pod"},
                                      "spec": {"containers": [{"name": "nginx", "image": "localhost/busybox"}]}})
    core.delete_namespace(name)
    _wait_namespace_gone(core, name)
    core.create_namespace({"metadata": {"name": name}})
    try:
        assert core.list_namespaced_pod(name).items == []
    finally:
        core.delete_namespace(name)


@row("namespace-deletion-removes-services", release="v1.11", needs="CTRL",
     codename="[sig-api-machinery] Namespaces [Serial] should ensure that all services are removed when a namespace is deleted")
def test_namespace_deletion_removes_services(core):
    name = f"nsdeletetest-{uuid.uuid4().hex[:5]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_service(name, {"metadata": {"name": "test-service"},
                                          "spec": {"selector": {"foo": "bar", "baz": "blah"},
                                                   "ports": [{"port": 80, "targetPort": 80}]}})
    core.delete_namespace(name)
    _wait_namespace_gone(core, name)
    core.create_namespace({"metadata": {"name": name}})
    try:
        with pytest.raises(client.ApiException) as err:
            core.read_namespaced_service("test-service", name)
        assert err.value.status == 404
    finally:
        core.delete_namespace(name)


def _has_default_sa(core, ns):
    try:
        core.read_namespaced_service_account("default", ns)
        return True
    except client.ApiException:
        return False
