"""storage.k8s.io/v1 through real clients: StorageClass defaults, rules and table; CSI objects stored."""
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


def _invalid(call) -> list[str]:
    with pytest.raises(ApiException) as e:
        call()
    assert e.value.status == 422, e.value.body
    return [c["field"] for c in json.loads(e.value.body)["details"]["causes"]]


def test_storage_class(api_client, kubectl):
    st = client.StorageV1Api(api_client)
    sc = st.create_storage_class({"metadata": {"name": "fast", "annotations": {
        "storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "example.com/fast",
        "parameters": {"type": "ssd"}})
    assert (sc.reclaim_policy, sc.volume_binding_mode) == ("Delete", "Immediate")
    lines = kubectl("get", "sc", "fast").stdout.split("\n")
    assert lines[0].split() == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE",
                                "ALLOWVOLUMEEXPANSION", "AGE"]
    assert lines[1].split()[:3] == ["fast", "(default)", "example.com/fast"]
    assert _invalid(lambda: st.patch_storage_class("fast", {"parameters": {"type": "hdd"}})) == ["parameters"]
    st.patch_storage_class("fast", {"allowVolumeExpansion": True})
    st.delete_storage_class("fast")
    assert set(_invalid(lambda: st.create_storage_class({"metadata": {"name": "bad"}, "provisioner": "a/b/c",
                                                         "reclaimPolicy": "Recycle"}))) == \
        {"provisioner", "reclaimPolicy"}


def test_csi_objects(api_client, namespace):
    st = client.StorageV1Api(api_client)
    drv = st.create_csi_driver({"metadata": {"name": "csi.example.com"}, "spec": {}})
    assert drv.spec.attach_required is True and drv.spec.volume_lifecycle_modes == ["Persistent"]
    st.delete_csi_driver("csi.example.com")
    cap = st.create_namespaced_csi_storage_capacity(namespace, {"metadata": {"name": "cap"},
                                                                "storageClassName": "fast", "capacity": "10Gi"})
    assert cap.capacity == "10Gi"
    assert [i.metadata.name for i in st.list_namespaced_csi_storage_capacity(namespace).items] == ["cap"]


def test_deletes_answer_with_the_object_where_upstream_does(api_client, namespace):
    """ReturnDeletedObject kinds: the typed client reads the deleted object back (a Status
    there fails its strict models)."""
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "bot"}})
    assert core.delete_namespaced_service_account("bot", namespace).metadata.name == "bot"


def test_volume_attachments_validated_as_upstream(api_client, kubectl):
    st = client.StorageV1Api(api_client)
    with pytest.raises(client.ApiException) as err:
        st.create_volume_attachment({"metadata": {"name": "va-bad"}, "spec": {
            "attacher": "csi.example.com", "nodeName": "n1", "source": {}}})
    assert err.value.status == 422
    body = json.loads(err.value.body)
    assert [(c["field"], c["reason"]) for c in body["details"]["causes"]] == [("spec.source", "FieldValueRequired")]
    assert "must specify exactly one of inlineVolumeSpec and persistentVolumeName" in body["message"]
    st.create_volume_attachment({"metadata": {"name": "va-good"}, "spec": {
        "attacher": "csi.example.com", "nodeName": "n1", "source": {"persistentVolumeName": "pv-1"}}})
    try:
        row = kubectl("get", "volumeattachment", "va-good").stdout.splitlines()[1].split()
        assert row[:5] == ["va-good", "csi.example.com", "pv-1", "n1", "false"]
    finally:
        st.delete_volume_attachment("va-good", _preload_content=False)
