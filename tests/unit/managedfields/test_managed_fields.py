"""Ownership bookkeeping for create/update/patch (operation Update)."""
from apiserver.machinery.managedfields import update_managed_fields

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"


def pod(image="nginx", labels=None, extra=None):
    spec = {"containers": [{"name": "c", "image": image}]}
    spec.update(extra or {})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "d", "labels": labels or {"app": "x"}}, "spec": spec}


def test_create_records_an_update_entry_like_upstream():
    new = update_managed_fields(None, pod(), "kubectl-create", api_version="v1", now=T0)
    [entry] = new["metadata"]["managedFields"]
    assert entry["manager"] == "kubectl-create" and entry["operation"] == "Update"
    assert entry["apiVersion"] == "v1" and entry["time"] == T0 and entry["fieldsType"] == "FieldsV1"
    assert entry["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}},
    }


def test_change_moves_ownership_and_removal_drops_it():
    old = update_managed_fields(None, pod(), "creator", api_version="v1", now=T0)
    new = pod(image="busybox", labels={"app": "x", "tier": "web"})
    new["metadata"]["managedFields"] = old["metadata"]["managedFields"]
    new = update_managed_fields(old, new, "editor", api_version="v1", now=T1)
    by = {e["manager"]: e["fieldsV1"] for e in new["metadata"]["managedFields"]}
    assert "f:image" not in by["creator"]["f:spec"]["f:containers"]['k:{"name":"c"}']
    assert by["editor"] == {"f:metadata": {"f:labels": {"f:tier": {}}},
                            "f:spec": {"f:containers": {'k:{"name":"c"}': {"f:image": {}}}}}
    # the editor removes the label it added: its entry loses it, and it drops out when empty
    later = pod(image="busybox")
    later["metadata"]["managedFields"] = new["metadata"]["managedFields"]
    later = update_managed_fields(new, later, "editor", api_version="v1", now=T1)
    by = {e["manager"]: e["fieldsV1"] for e in later["metadata"]["managedFields"]}
    assert by["editor"] == {"f:spec": {"f:containers": {'k:{"name":"c"}': {"f:image": {}}}}}


def test_entries_are_sorted_and_stored_ones_used_when_client_omits_them():
    old = update_managed_fields(None, pod(), "b-manager", api_version="v1", now=T0)
    new = update_managed_fields(old, pod(labels={"app": "y"}), "a-manager", api_version="v1", now=T0)
    assert [e["manager"] for e in new["metadata"]["managedFields"]] == ["a-manager", "b-manager"]


def test_reset_with_one_empty_entry_and_status_ignored_on_main_resource():
    new = pod()
    new["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in update_managed_fields(None, new, "m", api_version="v1", now=T0)["metadata"]
    new = pod()
    new["status"] = {"phase": "Pending"}
    new = update_managed_fields(None, new, "m", api_version="v1", now=T0, ignored=[("f:status",)])
    assert "f:status" not in new["metadata"]["managedFields"][0]["fieldsV1"]


def test_subresource_entries_are_separate():
    old = update_managed_fields(None, pod(), "creator", api_version="v1", now=T0)
    new = dict(old, status={"phase": "Running"})
    new = update_managed_fields(old, new, "kubelet", api_version="v1", now=T1, subresource="status")
    kubelet = [e for e in new["metadata"]["managedFields"] if e["manager"] == "kubelet"][0]
    assert kubelet["subresource"] == "status" and kubelet["fieldsV1"] == {"f:status": {"f:phase": {}}}


def test_a_write_that_sets_nothing_leaves_the_entries_alone():
    old = update_managed_fields(None, pod(), "creator", api_version="v1", now=T0)
    same = update_managed_fields(old, pod(), "creator", api_version="v1", now=T1)
    assert same["metadata"]["managedFields"] == old["metadata"]["managedFields"]


def test_more_than_ten_updaters_fold_the_oldest_into_ancient_changes():
    obj = update_managed_fields(None, pod(labels={"l0": "v"}), "m00", api_version="v1", now="2026-01-01T00:00:00Z")
    for i in range(1, 12):
        new = pod(labels={f"l{j}": "v" for j in range(i + 1)})
        new["metadata"]["managedFields"] = obj["metadata"]["managedFields"]
        obj = update_managed_fields(obj, new, f"m{i:02d}", api_version="v1", now=f"2026-01-01T00:{i:02d}:00Z")
    entries = obj["metadata"]["managedFields"]
    names = [e["manager"] for e in entries]
    assert len(entries) == 10 and "ancient-changes" in names and "m00" not in names and "m11" in names
    ancient = next(e for e in entries if e["manager"] == "ancient-changes")
    assert set(ancient["fieldsV1"]["f:metadata"]["f:labels"]) >= {"f:l0", "f:l1", "f:l2"}
