"""Rules and `kubectl get` cells of PersistentVolumes, claims, priority and runtime classes."""
from datetime import datetime, timezone

from openapi.catalogue import load

from apiserver.registry.resources import strategy_for

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def strategy(group, plural):
    return strategy_for(next(r for r in load().resources() if (r.group, r.plural) == (group, plural)))


def messages(causes):
    return [f"{c.field}: {c.message}" for c in causes]


def test_pv_needs_one_source_capacity_and_modes():
    pv = strategy("", "persistentvolumes")
    got = messages(pv.check_create({"metadata": {"name": "v"}, "spec": {}}))
    assert "spec.accessModes: Required value" in got and "spec.capacity: Required value" in got
    assert "spec: Required value: must specify a volume type" in got
    two = {"metadata": {"name": "v"}, "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                                "hostPath": {"path": "/x"}, "nfs": {"server": "s", "path": "/"}}}
    assert messages(pv.check_create(two)) == ["spec.nfs: Forbidden: may not specify more than 1 volume type"]
    local = {"metadata": {"name": "v"}, "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                                  "local": {"path": "/x"}}}
    assert messages(pv.check_create(local)) == ["spec.nodeAffinity: Required value: Local volume requires node affinity"]


def test_pv_defaults_and_table():
    pv = strategy("", "persistentvolumes")
    obj = {"metadata": {"name": "v", "creationTimestamp": "2025-12-31T23:59:00Z"}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"], "hostPath": {"path": "/x"},
        "claimRef": {"namespace": "ns", "name": "c"}, "storageClassName": "local-path"}}
    pv.defaults(obj)
    assert obj["spec"]["persistentVolumeReclaimPolicy"] == "Retain" and obj["status"]["phase"] == "Pending"
    assert [c["name"] for c in pv.columns()] == ["Name", "Capacity", "Access Modes", "Reclaim Policy", "Status",
                                                  "Claim", "StorageClass", "VolumeAttributesClass", "Reason", "Age",
                                                  "VolumeMode"]
    assert pv.cells(obj, NOW) == ["v", "1Gi", "RWO,RWX", "Retain", "Pending", "ns/c", "local-path", "<unset>", "",
                                  "60s", "Filesystem"]


def test_pvc_rules_and_binding_update():
    pvc = strategy("", "persistentvolumeclaims")
    got = messages(pvc.check_create({"metadata": {"name": "c", "namespace": "d"}, "spec": {}}))
    assert got[:2] == ["spec.accessModes: Required value: at least 1 access mode is required",
                       "spec.resources[storage]: Required value"]
    old = {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
           "status": {"phase": "Pending"}}
    bound = {"spec": dict(old["spec"], volumeName="v")}
    assert pvc.validate_update(bound, old) == []  # binding sets volumeName once
    assert messages(pvc.validate_update({"spec": dict(bound["spec"], volumeName="w")}, bound))[0].startswith(
        "spec: Forbidden: spec is immutable after creation")
    grown = {"spec": dict(old["spec"], resources={"requests": {"storage": "2Gi"}})}
    assert pvc.validate_update(grown, old) != []  # only a bound claim may grow
    bound_old = {"spec": bound["spec"], "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}}
    assert pvc.validate_update({"spec": dict(bound["spec"], resources={"requests": {"storage": "2Gi"}})},
                               bound_old) == []
    # shrinking: only back towards status.capacity (undoing a failed expansion), never to it
    asked = {"spec": dict(bound["spec"], resources={"requests": {"storage": "3Gi"}}),
             "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}}
    assert pvc.validate_update({"spec": dict(bound["spec"], resources={"requests": {"storage": "2Gi"}})},
                               asked) == []
    for size in ("1Gi", "512Mi"):
        got = messages(pvc.validate_update({"spec": dict(bound["spec"], resources={"requests": {"storage": size}})},
                                           asked))
        assert got == ["spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"]
    obj = {"metadata": {"name": "c", "creationTimestamp": "2025-12-31T23:00:00Z"},
           "spec": dict(bound["spec"], storageClassName="local-path", volumeMode="Filesystem"),
           "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}}
    assert pvc.cells(obj, NOW) == ["c", "Bound", "v", "1Gi", "RWO", "local-path", "<unset>", "60m", "Filesystem"]


def test_priority_class_rules():
    pc = strategy("scheduling.k8s.io", "priorityclasses")
    assert messages(pc.check_create({"metadata": {"name": "system-mine"}, "value": 5}))[0].startswith(
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only.")
    assert messages(pc.check_create({"metadata": {"name": "huge"}, "value": 2_000_000_000})) == [
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
    assert pc.check_create({"metadata": {"name": "system-node-critical"}, "value": 2000001000}) == []
    assert messages(pc.validate_update({"value": 2}, {"value": 1})) == ["value: Forbidden: may not be changed in an update."]
    obj = {"metadata": {"name": "p", "creationTimestamp": "2025-12-31T23:59:00Z"}, "value": 3}
    pc.defaults(obj)
    assert pc.cells(obj, NOW) == ["p", 3, False, "60s", "PreemptLowerPriority"]


def test_runtime_class_handler_rules():
    rc = strategy("node.k8s.io", "runtimeclasses")
    assert messages(rc.check_create({"metadata": {"name": "r"}})) == ["handler: Required value"]
    assert messages(rc.check_create({"metadata": {"name": "r"}, "handler": "Run_C"}))[0].startswith(
        'handler: Invalid value: "Run_C": a lowercase RFC 1123 label')
    assert messages(rc.validate_update({"handler": "crun"}, {"handler": "runc"})) == [
        'handler: Invalid value: "crun": field is immutable']


def test_volume_attachment_and_csi_driver_names_as_upstream():
    va = strategy("storage.k8s.io", "volumeattachments")
    assert messages(va.validate({"spec": {}})) == [
        "spec.attacher: Required value",
        "spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName",
        "spec.nodeName: Required value"]
    both = {"attacher": "csi.example.com", "nodeName": "n1",
            "source": {"persistentVolumeName": "pv", "inlineVolumeSpec": {}}}
    assert messages(va.validate({"spec": both})) == [
        "spec.source: Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName"]
    ok = {"attacher": "csi.example.com", "nodeName": "n1", "source": {"persistentVolumeName": "pv"}}
    assert va.validate({"spec": ok}) == []
    inline = dict(ok, source={"inlineVolumeSpec": {"accessModes": ["ReadWriteOnce"]}})
    assert "spec.source.inlineVolumeSpec.capacity: Required value" in messages(va.validate({"spec": inline}))
    drivers = strategy("storage.k8s.io", "csidrivers")
    assert drivers.name_errors("CSI.Example.com") == []  # checked lowercased, as upstream
    assert drivers.name_errors("x" * 64)[0] == "must be no more than 63 characters"
