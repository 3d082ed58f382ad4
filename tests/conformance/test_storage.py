"""PersistentVolumes and claims: the two v1.29 rows of [sig-storage] PersistentVolumes CSI Conformance."""
from __future__ import annotations

import uuid

from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import retry_on_conflict, wait_for


def _pv(ns: str, labels: dict) -> dict:
    return {"metadata": {"generateName": ns + "-", "labels": labels}, "spec": {
        "capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": "Retain", "storageClassName": ns,
        "csi": {"driver": "e2e-driver-" + uuid.uuid4().hex[:8], "volumeHandle": "e2e-conformance"}}}


def _pvc(ns: str, pv_name: str) -> dict:
    return {"metadata": {"generateName": "pvc-"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": ns, "volumeName": pv_name,
        "resources": {"requests": {"storage": "1Gi"}}}}


@row("PersistentVolumes(Claims), lifecycle", release="v1.29", needs="API",
     codename="[sig-storage] PersistentVolumes CSI Conformance should run through the lifecycle of a PV and a PVC")
def test_pv_pvc_lifecycle(core, ns):
    label = {"e2e-pv-pool": ns}
    selector = f"e2e-pv-pool={ns}"
    pv = core.create_persistent_volume(_pv(ns, label))
    pvc = core.create_namespaced_persistent_volume_claim(ns, _pvc(ns, pv.metadata.name))
    assert [p.metadata.name for p in core.list_persistent_volume(label_selector=selector).items] == [pv.metadata.name]
    assert [c.metadata.name for c in core.list_namespaced_persistent_volume_claim(ns).items] == [pvc.metadata.name]

    patched_pv = core.patch_persistent_volume(pv.metadata.name, {"metadata": {"labels": {pv.metadata.name: "patched"}}})
    assert patched_pv.metadata.labels[pv.metadata.name] == "patched"
    assert int(patched_pv.metadata.resource_version) > int(pv.metadata.resource_version)
    patched_pvc = core.patch_namespaced_persistent_volume_claim(
        pvc.metadata.name, ns, {"metadata": {"labels": {pvc.metadata.name: "patched"}}})
    assert patched_pvc.metadata.labels[pvc.metadata.name] == "patched"
    assert core.read_persistent_volume(pv.metadata.name).metadata.uid == pv.metadata.uid
    assert core.read_namespaced_persistent_volume_claim(pvc.metadata.name, ns).metadata.uid == pvc.metadata.uid

    core.delete_namespaced_persistent_volume_claim(pvc.metadata.name, ns)
    wait_for(lambda: not core.list_namespaced_persistent_volume_claim(ns).items, what="claim deleted")
    core.delete_persistent_volume(pv.metadata.name)
    wait_for(lambda: not core.list_persistent_volume(label_selector=selector).items, what="volume deleted")

    # a second pair, updated and removed by collection
    pv = core.create_persistent_volume(_pv(ns, label))
    pvc = core.create_namespaced_persistent_volume_claim(ns, _pvc(ns, pv.metadata.name))

    def update_pv():
        got = core.read_persistent_volume(pv.metadata.name)
        got.metadata.labels[pv.metadata.name] = "updated"
        return core.replace_persistent_volume(pv.metadata.name, got)
    assert retry_on_conflict(update_pv).metadata.labels[pv.metadata.name] == "updated"

    def update_pvc():
        got = core.read_namespaced_persistent_volume_claim(pvc.metadata.name, ns)
        got.metadata.labels = {pvc.metadata.name: "updated"}
        return core.replace_namespaced_persistent_volume_claim(pvc.metadata.name, ns, got)
    updated = retry_on_conflict(update_pvc)
    assert updated.metadata.labels == {pvc.metadata.name: "updated"}
    pvc_selector, pv_selector = f"{pvc.metadata.name}=updated", f"{pv.metadata.name}=updated"
    assert len(core.list_persistent_volume_claim_for_all_namespaces(label_selector=pvc_selector).items) == 1
    core.delete_collection_namespaced_persistent_volume_claim(ns, label_selector=pvc_selector)
    wait_for(lambda: not core.list_namespaced_persistent_volume_claim(ns, label_selector=pvc_selector).items,
             what="claim deleted by collection")
    core.delete_collection_persistent_volume(label_selector=pv_selector)
    wait_for(lambda: not core.list_persistent_volume(label_selector=pv_selector).items, what="volume deleted by collection")


@row("PersistentVolumes(Claims), apply changes to a pv/pvc status", release="v1.29", needs="API",
     codename="[sig-storage] PersistentVolumes CSI Conformance should apply changes to a pv/pvc status")
def test_pv_pvc_status(api, core, ns):
    label = {"e2e-pv-pool": ns}
    pv = core.create_persistent_volume(_pv(ns, label))
    try:
        core.create_namespaced_persistent_volume_claim(ns, _pvc(ns, pv.metadata.name))
        initial_pv = core.list_persistent_volume(label_selector=f"e2e-pv-pool={ns}").items
        assert len(initial_pv) == 1
        claims = core.list_namespaced_persistent_volume_claim(ns).items
        assert len(claims) == 1
        name = claims[0].metadata.name
        assert core.read_namespaced_persistent_volume_claim_status(name, ns).status.phase in ("Pending", "Bound")
        assert core.read_persistent_volume_status(pv.metadata.name).status.phase in ("Available", "Bound", "Pending")

        patched = core.patch_namespaced_persistent_volume_claim_status(name, ns, {"status": {"conditions": [
            {"type": "StatusPatched", "status": "True", "reason": "E2E patchedStatus", "message": "Set from e2e test"}]}})
        cond = {c.type: c for c in patched.status.conditions}["StatusPatched"]
        assert (cond.reason, cond.message) == ("E2E patchedStatus", "Set from e2e test")
        patched_pv = core.patch_persistent_volume_status(
            pv.metadata.name, {"status": {"message": "StatusPatched", "reason": "E2E patchStatus"}})
        assert (patched_pv.status.reason, patched_pv.status.message) == ("E2E patchStatus", "StatusPatched")

        def update_claim_status():
            claim = core.read_namespaced_persistent_volume_claim(name, ns)
            claim.status.conditions.append(client.V1PersistentVolumeClaimCondition(
                type="StatusUpdated", status="True", reason="E2E updateStatus", message="Set from e2e test"))
            return core.replace_namespaced_persistent_volume_claim_status(name, ns, claim)
        updated = retry_on_conflict(update_claim_status)
        cond = {c.type: c for c in updated.status.conditions}["StatusUpdated"]
        assert (cond.reason, cond.message) == ("E2E updateStatus", "Set from e2e test")
        def update_volume_status():
            vol = core.read_persistent_volume(pv.metadata.name)
            vol.status.reason, vol.status.message = "E2E updateStatus", "StatusUpdated"
            return core.replace_persistent_volume_status(pv.metadata.name, vol)
        updated_pv = retry_on_conflict(update_volume_status)
        assert (updated_pv.status.reason, updated_pv.status.message) == ("E2E updateStatus", "StatusUpdated")
    finally:
        core.delete_persistent_volume(pv.metadata.name)
