"""Rows of the subset whose API pocketkube does not serve yet: strict expected failures."""
from __future__ import annotations

import pytest
from kubernetes import client

from tests.conformance.rows import missing, row


@row("PersistentVolumes(Claims), lifecycle", release="v1.29", needs="API",
     codename="[sig-storage] PersistentVolumes CSI Conformance should run through the lifecycle of a PV and a PVC")
@missing("core/v1 persistentvolumes and persistentvolumeclaims are not served")
def test_pv_pvc_lifecycle(core, ns):
    pv = core.create_persistent_volume({"metadata": {"name": "pv-" + ns}, "spec": {
        "capacity": {"storage": "3Gi"}, "accessModes": ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "e2e",
        "hostPath": {"path": "/tmp/" + ns}}})
    try:
        pvc = core.create_namespaced_persistent_volume_claim(ns, {"metadata": {"name": "pvc"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "e2e", "volumeName": pv.metadata.name,
            "resources": {"requests": {"storage": "1Gi"}}}})
        assert pvc.spec.volume_name == pv.metadata.name
        patched = core.patch_namespaced_persistent_volume_claim_status(pvc.metadata.name, ns, {
            "status": {"conditions": [{"type": "StatusPatched", "status": "True", "reason": "E2E"}]}})
        assert patched.status.conditions[0].type == "StatusPatched"
        core.delete_collection_namespaced_persistent_volume_claim(ns)
    finally:
        core.delete_persistent_volume(pv.metadata.name)


@row("Pod with the non-existing RuntimeClass is rejected", release="v1.20", needs="API",
     codename="[sig-node] RuntimeClass should reject a Pod requesting a non-existent RuntimeClass")
@missing("the RuntimeClass admission plugin (pods naming a missing RuntimeClass) is not served")
def test_pod_with_missing_runtimeclass_rejected(api, core, ns):
    client.NodeV1Api(api).list_runtime_class()  # the API must exist for the row to mean anything
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_pod(ns, {"metadata": {"name": "rc-pod"}, "spec": {
            "runtimeClassName": "does-not-exist", "containers": [{"name": "c", "image": "localhost/busybox"}]}})
    assert err.value.status == 403
