"""Strategic merge patch against the real upstream Pod/Deployment schemas."""
import copy

import pytest

from apiserver.machinery import schemas
from apiserver.machinery.patch import PatchError, strategic_merge_patch

POD = schemas.for_kind("", "v1", "Pod")
DEPLOYMENT = schemas.for_kind("apps", "v1", "Deployment")


def pod(**spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "a"}},
            "spec": spec}


def smp(doc, patch, schema=POD):
    before = copy.deepcopy(doc)
    patch_before = copy.deepcopy(patch)
    out = strategic_merge_patch(doc, patch, schema)
    assert doc == before and patch == patch_before  # inputs untouched
    return out


def names(items):
    return [c["name"] for c in items]


def test_maps_merge_and_null_deletes():
    out = smp(pod(), {"metadata": {"labels": {"app": None, "tier": "web"}, "annotations": {"a": "b"}}})
    assert out["metadata"]["labels"] == {"tier": "web"}
    assert out["metadata"]["annotations"] == {"a": "b"}
    assert smp(pod(), {"metadata": {"labels": None}})["metadata"] == {"name": "p"}


def test_containers_merge_by_name():
    doc = pod(containers=[{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}])
    out = smp(doc, {"spec": {"containers": [{"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}]}})
    assert out["spec"]["containers"] == [
        {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}]


def test_container_delete_directive():
    doc = pod(containers=[{"name": "a", "image": "a"}, {"name": "b", "image": "b"}])
    out = smp(doc, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}})
    assert names(out["spec"]["containers"]) == ["b"]


def test_ports_merge_by_container_port_and_env_by_name():
    doc = pod(containers=[{"name": "a", "ports": [{"containerPort": 80, "name": "http"}],
                           "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}])
    out = smp(doc, {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP"},
                                                                    {"containerPort": 443}],
                                             "env": [{"name": "Y", "value": "3"}]}]}})
    c = out["spec"]["containers"][0]
    assert c["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 443}]
    assert c["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}]


def test_volume_mounts_by_mount_path():
    doc = pod(containers=[{"name": "a", "volumeMounts": [{"name": "v", "mountPath": "/a"},
                                                         {"name": "w", "mountPath": "/b"}]}])
    out = smp(doc, {"spec": {"containers": [{"name": "a", "volumeMounts": [
        {"mountPath": "/b", "readOnly": True}, {"mountPath": "/a", "$patch": "delete"}]}]}})
    assert out["spec"]["containers"][0]["volumeMounts"] == [{"name": "w", "mountPath": "/b", "readOnly": True}]


def test_tolerations_are_atomic():
    doc = pod(tolerations=[{"key": "a", "operator": "Exists"}])
    out = smp(doc, {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}})
    assert out["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_finalizers_merge_as_a_set():
    doc = pod()
    doc["metadata"]["finalizers"] = ["a", "b"]
    out = smp(doc, {"metadata": {"finalizers": ["b", "c"]}})
    assert out["metadata"]["finalizers"] == ["a", "b", "c"]


def test_delete_from_primitive_list():
    doc = pod()
    doc["metadata"]["finalizers"] = ["a", "b", "c"]
    out = smp(doc, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]}})
    assert out["metadata"]["finalizers"] == ["a", "c"]
    out = smp(doc, {"metadata": {"$setElementOrder/finalizers": ["c", "a"],
                                 "$deleteFromPrimitiveList/finalizers": ["b"]}})
    assert out["metadata"]["finalizers"] == ["c", "a"]
    with pytest.raises(PatchError) as e:
        smp(doc, {"metadata": {"$deleteFromPrimitiveList/finalizers": "b"}})
    assert e.value.code == 400 and str(e.value) == "invalid patch format of primitive list"


def test_set_element_order_reorders_containers():
    doc = pod(containers=[{"name": "a", "image": "a"}, {"name": "b", "image": "b"}, {"name": "c", "image": "c"}])
    out = smp(doc, {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}})
    assert names(out["spec"]["containers"]) == ["c", "a", "b"]
    out = smp(doc, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}, {"name": "c"}],
                             "containers": [{"name": "a", "image": "a2"}]}})
    assert names(out["spec"]["containers"]) == ["b", "a", "c"]
    assert out["spec"]["containers"][1]["image"] == "a2"


def test_set_element_order_keeps_server_only_items_in_place():
    doc = pod(containers=[{"name": "a"}, {"name": "server"}, {"name": "b"}])
    out = smp(doc, {"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "new"}],
                             "containers": [{"name": "new"}]}})
    assert names(out["spec"]["containers"]) == ["a", "server", "b", "new"]


def test_set_element_order_with_delete():
    doc = pod(containers=[{"name": "a"}, {"name": "b"}])
    out = smp(doc, {"spec": {"$setElementOrder/containers": [{"name": "b"}],
                             "containers": [{"$patch": "delete", "name": "a"}]}})
    assert names(out["spec"]["containers"]) == ["b"]


def test_list_replace_directive():
    doc = pod(containers=[{"name": "a"}, {"name": "b"}])
    out = smp(doc, {"spec": {"containers": [{"name": "z", "image": "z"}, {"$patch": "replace"}]}})
    assert out["spec"]["containers"] == [{"name": "z", "image": "z"}]
    out = smp(doc, {"spec": {"containers": [{"$patch": "replace"}]}})
    assert out["spec"]["containers"] == []


def test_map_replace_and_delete_directives():
    doc = pod(containers=[{"name": "a", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}}])
    out = smp(doc, {"spec": {"containers": [{"name": "a", "resources": {"$patch": "replace",
                                                                         "limits": {"memory": "1Gi"}}}]}})
    assert out["spec"]["containers"][0]["resources"] == {"limits": {"memory": "1Gi"}}
    out = smp(doc, {"metadata": {"$patch": "replace", "name": "q"}})
    assert out["metadata"] == {"name": "q"}
    out = smp(doc, {"metadata": {"labels": {"$patch": "delete"}}})
    assert out["metadata"]["labels"] == {}
    with pytest.raises(PatchError) as e:  # upstream refuses "merge" in a map too
        smp(doc, {"metadata": {"$patch": "merge", "labels": {"x": "y"}}})
    assert str(e.value) == "unknown patch type: merge in map: map[$patch:merge labels:map[x:y]]"
    with pytest.raises(PatchError, match="unknown patch type: bogus"):
        smp(doc, {"metadata": {"$patch": "bogus"}})


def test_retain_keys_on_deployment_strategy():
    doc = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    out = smp(doc, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}},
              DEPLOYMENT)
    assert out["spec"]["strategy"] == {"type": "Recreate"}
    out = smp(doc, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}, DEPLOYMENT)
    assert out["spec"]["strategy"] == {"type": "Recreate"}
    with pytest.raises(PatchError) as e:
        smp(doc, {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 2}}}}, DEPLOYMENT)
    assert e.value.code == 400 and str(e.value) == "invalid patch format of retainKeys"
    with pytest.raises(PatchError) as e:
        smp(doc, {"spec": {"strategy": {"$retainKeys": "type"}}}, DEPLOYMENT)
    assert e.value.code == 400


def test_retain_keys_on_volumes():
    doc = pod(volumes=[{"name": "v", "emptyDir": {}}, {"name": "w", "hostPath": {"path": "/x"}}])
    out = smp(doc, {"spec": {"volumes": [{"name": "v", "$retainKeys": ["configMap", "name"],
                                          "configMap": {"name": "cm"}}]}})
    assert out["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "cm"}},
                                      {"name": "w", "hostPath": {"path": "/x"}}]


def test_nested_replace_inside_merged_list_item():
    doc = pod(containers=[{"name": "a", "env": [{"name": "X", "value": "1"}], "image": "i"}])
    out = smp(doc, {"spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "2"},
                                                                   {"$patch": "replace"}]}]}})
    assert out["spec"]["containers"] == [{"name": "a", "env": [{"name": "Y", "value": "2"}], "image": "i"}]


def test_new_fields_lose_nulls_and_directives():
    out = smp(pod(), {"spec": {"containers": [{"name": "a", "image": None, "env": [{"name": "X"}]}],
                               "securityContext": {"runAsUser": None, "fsGroup": 1}}})
    assert out["spec"] == {"containers": [{"name": "a", "env": [{"name": "X"}]}], "securityContext": {"fsGroup": 1}}


def test_missing_merge_key_and_list_of_lists():
    doc = pod(containers=[{"name": "a"}])
    with pytest.raises(PatchError) as e:
        smp(doc, {"spec": {"containers": [{"image": "x"}]}})
    assert e.value.code == 422
    assert str(e.value) == "map: map[image:x] does not contain declared merge key: name"
    doc["metadata"]["finalizers"] = ["a"]
    with pytest.raises(PatchError, match="lists of lists are not supported"):
        smp(doc, {"metadata": {"finalizers": [["x"]]}})
    with pytest.raises(PatchError, match="merging lists cannot yet be specified"):
        smp(doc, {"spec": {"containers": [{"$patch": "merge"}]}})


def test_bad_documents():
    for bad in ([], "x", None, 3):
        with pytest.raises(PatchError) as e:
            strategic_merge_patch(pod(), bad, POD)
        assert e.value.code == 400 and e.value.reason == "BadRequest"
    with pytest.raises(PatchError) as e:
        smp(pod(), {"spec": {"$setElementOrder/containers": "x"}})
    assert e.value.code == 400


def test_without_schema_lists_replace_and_maps_merge():
    doc = {"spec": {"items": [1, 2], "m": {"a": 1}}}
    out = strategic_merge_patch(doc, {"spec": {"items": [3], "m": {"b": 2}}}, None)
    assert out == {"spec": {"items": [3], "m": {"a": 1, "b": 2}}}


def test_type_change_replaces():
    doc = {"spec": {"x": [1]}}
    assert strategic_merge_patch(doc, {"spec": {"x": {"a": None, "b": 1}}}, None) == {"spec": {"x": {"b": 1}}}
    assert strategic_merge_patch(doc, {"spec": {"x": "s"}}, None) == {"spec": {"x": "s"}}


def test_owner_references_merge_by_uid():
    doc = pod()
    doc["metadata"]["ownerReferences"] = [{"uid": "1", "name": "a"}]
    out = smp(doc, {"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]}})
    assert [o["uid"] for o in out["metadata"]["ownerReferences"]] == ["2", "1"]


def test_patch_list_must_follow_set_element_order():
    doc = pod(containers=[{"name": "a"}, {"name": "b"}])
    with pytest.raises(PatchError) as e:
        smp(doc, {"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                           "containers": [{"name": "b", "image": "x"}, {"name": "a", "image": "y"}]}})
    assert e.value.code == 422 and str(e.value).startswith("The order in patch list:")
    with pytest.raises(PatchError):
        smp(doc, {"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "zz"}]}})
    # deletions are not part of the order
    out = smp(doc, {"spec": {"$setElementOrder/containers": [{"name": "b"}],
                             "containers": [{"name": "a", "$patch": "delete"}, {"name": "b", "image": "x"}]}})
    assert out["spec"]["containers"] == [{"name": "b", "image": "x"}]
