"""storage.k8s.io CSI API rows ([sig-storage]): CSIStorageCapacity, CSIDriver and
CSINode lifecycles, and a Pod naming an inline CSI volume, from their upstream
descriptions. All are API rows: no CSI driver runs."""
from __future__ import annotations

import pytest
from kubernetes import client, watch

from tests.conformance.rows import row


def _gone(read) -> bool:
    try:
        read()
    except client.ApiException as e:
        return e.status == 404
    return False


@row("CSIStorageCapacity API", release="v1.24", needs="API",
     codename="[sig-storage] CSIStorageCapacity should support CSIStorageCapacities API operations")
def test_csistoragecapacity_api(api, ns):
    storage = client.StorageV1Api(api)
    groups = client.ApisApi(api).get_api_versions().groups
    assert any(g.name == "storage.k8s.io" and any(v.version == "v1" for v in g.versions) for g in groups)
    resources = client.StorageV1Api(api).get_api_resources().resources
    assert any(r.name == "csistoragecapacities" and r.namespaced for r in resources)
    label = f"e2e-csc={ns}"

    def body(i):
        return {"metadata": {"name": f"{ns}-{i}", "labels": {"e2e-csc": ns}}, "storageClassName": "e2e-sc",
                "capacity": "1Gi", "nodeTopology": {"matchLabels": {"topology": f"zone-{i}"}}}
    made = [storage.create_namespaced_csi_storage_capacity(ns, body(i)) for i in range(1, 4)]
    got = storage.read_namespaced_csi_storage_capacity(made[0].metadata.name, ns)
    assert got.capacity == "1Gi" and got.storage_class_name == "e2e-sc"
    assert len(storage.list_namespaced_csi_storage_capacity(ns, label_selector=label).items) == 3
    assert len(storage.list_csi_storage_capacity_for_all_namespaces(label_selector=label).items) == 3

    w = watch.Watch()
    seen = []
    rv = storage.list_namespaced_csi_storage_capacity(ns, label_selector=label).metadata.resource_version
    patched = storage.patch_namespaced_csi_storage_capacity(made[0].metadata.name, ns,
                                                            {"metadata": {"annotations": {"patched": "true"}}})
    assert patched.metadata.annotations["patched"] == "true"
    for event in w.stream(storage.list_namespaced_csi_storage_capacity, ns, label_selector=label,
                          resource_version=rv, timeout_seconds=10):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "MODIFIED":
            w.stop()
    assert ("MODIFIED", made[0].metadata.name) in seen

    got = storage.read_namespaced_csi_storage_capacity(made[1].metadata.name, ns)
    got.capacity = "2Gi"
    assert storage.replace_namespaced_csi_storage_capacity(made[1].metadata.name, ns, got).capacity == "2Gi"
    storage.delete_namespaced_csi_storage_capacity(made[0].metadata.name, ns)
    assert _gone(lambda: storage.read_namespaced_csi_storage_capacity(made[0].metadata.name, ns))
    storage.delete_collection_namespaced_csi_storage_capacity(ns, label_selector=label)
    assert not storage.list_namespaced_csi_storage_capacity(ns, label_selector=label).items


@row("CSIDriver, lifecycle", release="v1.28", needs="API",
     codename="[sig-storage] CSIInlineVolumes should run through the lifecycle of a CSIDriver")
def test_csidriver_lifecycle(api, ns):
    storage = client.StorageV1Api(api)
    label = f"e2e-csidriver={ns}"
    names = [f"inline-driver-{ns}-{i}"[:63] for i in range(2)]
    for name in names:
        storage.create_csi_driver({"metadata": {"name": name, "labels": {"e2e-csidriver": ns}},
                                   "spec": {"volumeLifecycleModes": ["Ephemeral"]}})
    try:
        got = storage.read_csi_driver(names[0])
        assert got.spec.volume_lifecycle_modes == ["Ephemeral"] and got.spec.attach_required is True
        assert sorted(d.metadata.name for d in storage.list_csi_driver(label_selector=label).items) == sorted(names)
        patched = storage.patch_csi_driver(names[0], {"metadata": {"labels": {"patched": "true"}}})
        assert patched.metadata.labels["patched"] == "true"
        got = storage.read_csi_driver(names[1])
        got.metadata.labels["updated"] = "true"
        assert storage.replace_csi_driver(names[1], got).metadata.labels["updated"] == "true"
        with pytest.raises(client.ApiException) as err:  # attachRequired is fixed once created
            storage.patch_csi_driver(names[1], {"spec": {"attachRequired": False}})
        assert err.value.status == 422
        storage.delete_csi_driver(names[0])
        assert _gone(lambda: storage.read_csi_driver(names[0]))
    finally:
        storage.delete_collection_csi_driver(label_selector=label)
    assert not storage.list_csi_driver(label_selector=label).items


@row("CSIInlineVolumes should support Pods with inline volumes", release="v1.26", needs="API",
     codename="[sig-storage] CSIInlineVolumes should support CSIVolumeSource in Pod API")
def test_pod_with_inline_csi_volume(api, core, ns):
    pod = {"metadata": {"name": "pod-csi-inline-volumes", "labels": {"e2e": ns}}, "spec": {
        # never scheduled: the row is about the API, not a driver mounting anything
        "nodeSelector": {"e2e-no-such-node": ns},
        "containers": [{"name": "c", "image": "localhost/busybox", "command": ["sleep", "3600"],
                        "volumeMounts": [{"name": "vol", "mountPath": "/mnt/vol"}]}],
        "volumes": [{"name": "vol", "csi": {"driver": "e2e.example.com", "volumeAttributes": {"foo": "bar"}}}]}}
    core.create_namespaced_pod(ns, pod)
    got = core.read_namespaced_pod("pod-csi-inline-volumes", ns)
    csi = got.spec.volumes[0].csi
    assert (csi.driver, csi.volume_attributes) == ("e2e.example.com", {"foo": "bar"})
    assert [p.metadata.name for p in core.list_namespaced_pod(ns, label_selector=f"e2e={ns}").items] == [
        "pod-csi-inline-volumes"]
    patched = core.patch_namespaced_pod("pod-csi-inline-volumes", ns, {"metadata": {"labels": {"patched": "yes"}}})
    assert patched.metadata.labels["patched"] == "yes"
    core.delete_namespaced_pod("pod-csi-inline-volumes", ns, grace_period_seconds=0)


@row("CSINode, lifecycle", release="v1.32", needs="API",
     codename="[sig-storage] CSINodes CSI Conformance should run through the lifecycle of a csinode")
def test_csinode_lifecycle(api, ns):
    storage = client.StorageV1Api(api)
    label = f"e2e-csinode={ns}"
    name = f"e2e-csinode-{ns}"[:63]
    storage.create_csi_node({"metadata": {"name": name, "labels": {"e2e-csinode": ns}}, "spec": {"drivers": []}})
    try:
        got = storage.read_csi_node(name)
        assert got.spec.drivers == [] or got.spec.drivers is None
        assert [n.metadata.name for n in storage.list_csi_node(label_selector=label).items] == [name]
        patched = storage.patch_csi_node(name, {"metadata": {"labels": {"patched": "true"}}})
        assert patched.metadata.labels["patched"] == "true"
        got = storage.read_csi_node(name)
        got.metadata.labels["updated"] = "true"
        assert storage.replace_csi_node(name, got).metadata.labels["updated"] == "true"
        # the answer is a Status (deleted at once), which this client cannot read as a CSINode
        storage.delete_csi_node(name, _preload_content=False)
        assert _gone(lambda: storage.read_csi_node(name))
        storage.create_csi_node({"metadata": {"name": name, "labels": {"e2e-csinode": ns}}, "spec": {"drivers": []}})
    finally:
        storage.delete_collection_csi_node(label_selector=label)
    assert not storage.list_csi_node(label_selector=label).items
