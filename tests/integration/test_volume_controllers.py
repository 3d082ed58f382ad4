"""The PV binder and the protection controllers against the real API server, through
kubectl and the official client: a claim binds to the volume that fits, a deleted claim
releases a Retain volume and fails a Delete volume no plugin can delete, and a claim a
pod uses stays Terminating until the pod is gone."""
from __future__ import annotations

import json
import uuid

import pytest
from kubernetes import client

from controllers_support import FAST_FLAGS, leading_controllers, poll


@pytest.fixture(scope="module")
def controllers(server, tmp_path_factory):
    with leading_controllers(server.kubeconfig, tmp_path_factory.mktemp("ctl-vol"), *FAST_FLAGS,
                             name="ctl-vol") as proc:
        yield proc


def _pv(name: str, size: str, policy: str, cls: str) -> dict:
    return {"metadata": {"name": name, "labels": {"t": cls}}, "spec": {
        "capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "storageClassName": cls,
        "persistentVolumeReclaimPolicy": policy, "hostPath": {"path": f"/tmp/{name}"}}}


def _claim(name: str, size: str, cls: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": cls,
                                                 "resources": {"requests": {"storage": size}}}}


async def test_claim_binds_to_smallest_fitting_volume_and_releases(controllers, api_client, kubectl, namespace):
    core = client.CoreV1Api(api_client)
    cls = f"static-{uuid.uuid4().hex[:6]}"
    for name, size in (("big", "10Gi"), ("small", "2Gi"), ("tiny", "500Mi")):
        core.create_persistent_volume(_pv(f"{cls}-{name}", size, "Retain", cls))
    try:
        core.create_namespaced_persistent_volume_claim(namespace, _claim("data", "1Gi", cls))

        async def bound():
            c = core.read_namespaced_persistent_volume_claim("data", namespace)
            return c if c.status.phase == "Bound" else None
        claim = await poll(bound, what="claim Bound")
        assert claim.spec.volume_name == f"{cls}-small"
        assert claim.status.capacity == {"storage": "2Gi"} and claim.status.access_modes == ["ReadWriteOnce"]
        out = kubectl("get", "pvc", "data", "-n", namespace).stdout.splitlines()
        assert out[1].split()[:6] == ["data", "Bound", f"{cls}-small", "2Gi", "RWO", cls]
        out = kubectl("get", "pv", f"{cls}-small").stdout.splitlines()
        assert out[1].split()[4:6] == ["Bound", f"{namespace}/data"]

        core.delete_namespaced_persistent_volume_claim("data", namespace)

        async def released():
            return core.read_persistent_volume(f"{cls}-small").status.phase == "Released"
        await poll(released, what="volume Released")
    finally:
        core.delete_collection_persistent_volume(label_selector=f"t={cls}")


async def test_delete_policy_without_a_deleter_fails_the_volume(controllers, api_client, namespace):
    core = client.CoreV1Api(api_client)
    cls = f"static-{uuid.uuid4().hex[:6]}"
    core.create_persistent_volume(_pv(f"{cls}-d", "1Gi", "Delete", cls))
    try:
        core.create_namespaced_persistent_volume_claim(namespace, _claim("data", "1Gi", cls))
        await poll(lambda: core.read_namespaced_persistent_volume_claim("data", namespace).status.phase == "Bound",
                   what="claim Bound")
        core.delete_namespaced_persistent_volume_claim("data", namespace)

        async def failed():
            pv = core.read_persistent_volume(f"{cls}-d")
            return pv if pv.status.phase == "Failed" else None
        pv = await poll(failed, what="volume Failed")
        assert pv.status.message == f'error getting deleter volume plugin for volume "{cls}-d": ' \
                                    "no deletable volume plugin matched"
    finally:
        core.delete_collection_persistent_volume(label_selector=f"t={cls}")


async def test_claim_in_use_is_protected_until_its_pod_goes(controllers, api_client, kubectl, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_persistent_volume_claim(namespace, _claim("used", "1Gi", ""))
    core.create_namespaced_pod(namespace, {"metadata": {"name": "user"}, "spec": {
        "nodeSelector": {"no-such-node": "x"},  # never scheduled: naming the claim is enough
        "containers": [{"name": "c", "image": "localhost/busybox"}],
        "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "used"}}]}})
    kubectl("delete", "pvc", "used", "-n", namespace, "--wait=false")
    out = kubectl("get", "pvc", "used", "-n", namespace).stdout.splitlines()
    assert out[1].split()[1] == "Terminating"
    claim = json.loads(kubectl("get", "pvc", "used", "-n", namespace, "-o", "json").stdout)
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    core.delete_namespaced_pod("user", namespace, grace_period_seconds=0)

    async def gone():
        try:
            core.read_namespaced_persistent_volume_claim("used", namespace)
        except client.ApiException as e:
            return e.status == 404
        return False
    await poll(gone, what="claim deleted once unused")
