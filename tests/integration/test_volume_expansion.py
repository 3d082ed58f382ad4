"""Volume expansion against the real API server, through kubectl patch: a bound
local-path claim grows (the volume first, then the claim's status.capacity, with
the resizer's events), shrinking it is refused, and so is growing a claim whose
class does not allow expansion or a claim that is not bound."""
from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from controllers_support import FAST_FLAGS, leading_controllers, poll

SELECTED_NODE = "volume.kubernetes.io/selected-node"


@pytest.fixture(scope="module")
def controllers(server, api_client, tmp_path_factory):
    base = tmp_path_factory.mktemp("ctl-expand")
    with leading_controllers(server.kubeconfig, base, *FAST_FLAGS, "--local-path-dir", str(base / "local-path"),
                             "--controllers", "persistentvolume-binder,persistentvolume-expander",
                             name="ctl-expand") as proc:
        yield proc
    # the provisioner's default class must not change what later tests' claims get
    storage = client.StorageV1Api(api_client)
    storage.delete_storage_class("local-path")


def _claim(name: str, size: str, cls: str, node: str | None = None) -> dict:
    meta = {"name": name, **({"annotations": {SELECTED_NODE: node}} if node else {})}
    return {"metadata": meta, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": cls,
                                       "resources": {"requests": {"storage": size}}}}


def _grow(kubectl, namespace: str, name: str, size: str, check: bool = True):
    return kubectl("patch", "pvc", name, "-n", namespace, "-p",
                   '{"spec":{"resources":{"requests":{"storage":"%s"}}}}' % size, check=check)


async def _bound(core, namespace: str, name: str):
    async def check():
        c = core.read_namespaced_persistent_volume_claim(name, namespace)
        return c if c.status.phase == "Bound" else None
    return await poll(check, what=f"claim {name} Bound")


async def test_local_path_claim_grows_and_never_shrinks(controllers, api_client, kubectl, namespace):
    core = client.CoreV1Api(api_client)
    storage = client.StorageV1Api(api_client)

    def default_class():   # the provisioner makes it once it leads: a moment after the lease
        found = [c for c in storage.list_storage_class().items if c.metadata.name == "local-path"]
        return found[0] if found else None
    cls = await poll(default_class, what="the local-path StorageClass")
    assert cls.allow_volume_expansion is True
    # the scheduler's part (selected-node) done by hand: no pod needs to run
    core.create_namespaced_persistent_volume_claim(namespace, _claim("data", "1Gi", "local-path", "expand-node"))
    claim = await _bound(core, namespace, "data")
    assert claim.status.capacity == {"storage": "1Gi"}
    volume = claim.spec.volume_name

    out = _grow(kubectl, namespace, "data", "2Gi")
    assert out.stdout.strip() == f"persistentvolumeclaim/data patched"

    async def grown():
        c = core.read_namespaced_persistent_volume_claim("data", namespace)
        return c if c.status.capacity == {"storage": "2Gi"} else None
    claim = await poll(grown, what="claim capacity 2Gi")
    assert core.read_persistent_volume(volume).spec.capacity == {"storage": "2Gi"}
    assert claim.status.allocated_resources == {"storage": "2Gi"}
    assert not claim.status.conditions and not claim.status.allocated_resource_statuses
    lines = kubectl("get", "pvc", "data", "-n", namespace).stdout.splitlines()
    assert lines[1].split()[:5] == ["data", "Bound", volume, "2Gi", "RWO"]

    async def events():
        got = core.list_namespaced_event(namespace, field_selector="involvedObject.name=data").items
        reasons = {e.reason: e.message for e in got}
        return reasons if "VolumeResizeSuccessful" in reasons else None
    reasons = await poll(events, what="resize events")
    assert reasons["Resizing"] == f"External resizer is resizing volume {volume}"
    assert reasons["VolumeResizeSuccessful"] == "Resize volume succeeded"

    out = _grow(kubectl, namespace, "data", "1Gi", check=False)
    assert out.returncode != 0
    assert out.stderr.strip() == ('The PersistentVolumeClaim "data" is invalid: spec.resources.requests.storage: '
                                  'Forbidden: field can not be less than status.capacity')


async def test_growth_needs_an_expandable_class_and_a_bound_claim(controllers, api_client, kubectl, namespace):
    core = client.CoreV1Api(api_client)
    storage = client.StorageV1Api(api_client)
    fixed = f"fixed-{uuid.uuid4().hex[:6]}"
    storage.create_storage_class({"metadata": {"name": fixed}, "provisioner": "example.com/none"})
    core.create_persistent_volume({"metadata": {"name": fixed}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": fixed,
        "hostPath": {"path": f"/tmp/{fixed}"}}})
    try:
        core.create_namespaced_persistent_volume_claim(namespace, _claim("fixed", "1Gi", fixed))
        await _bound(core, namespace, "fixed")
        out = _grow(kubectl, namespace, "fixed", "2Gi", check=False)
        assert out.returncode != 0
        assert out.stderr.strip() == (
            'Error from server (Forbidden): persistentvolumeclaims "fixed" is forbidden: only dynamically '
            'provisioned pvc can be resized and the storageclass that provisions the pvc must support resize')

        core.create_namespaced_persistent_volume_claim(namespace, _claim("waiting", "1Gi", "local-path"))
        out = _grow(kubectl, namespace, "waiting", "2Gi", check=False)
        assert out.returncode != 0
        assert out.stderr.strip() == (
            'The PersistentVolumeClaim "waiting" is invalid: spec: Forbidden: spec is immutable after creation '
            'except resources.requests and volumeAttributesClassName for bound claims')
    finally:
        core.delete_persistent_volume(fixed)
        storage.delete_storage_class(fixed)
