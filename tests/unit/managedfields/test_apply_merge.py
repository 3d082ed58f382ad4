"""Server-side apply: structured merge, removal, conflicts, force, CSA upgrade."""
import json

import pytest

from apiserver.machinery.errors import StatusError
from apiserver.machinery.managedfields import LAST_APPLIED, apply, update_managed_fields

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"


def cm(data=None, labels=None):
    meta = {"name": "c", "namespace": "d"}
    if labels is not None:
        meta["labels"] = labels
    out = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
    if data is not None:
        out["data"] = data
    return out


def do(live, config, manager, force=False, kind="ConfigMap", api_version="v1"):
    return apply(live, config, manager, force=force, api_version=api_version, kind=kind, now=T1)


def owners(obj):
    return {e["manager"]: e for e in obj["metadata"].get("managedFields", [])}


def test_apply_creates_and_records_an_apply_entry():
    obj = do(None, cm({"a": "1"}, {"app": "x"}), "alice")
    assert obj["data"] == {"a": "1"}
    e = owners(obj)["alice"]
    assert e["operation"] == "Apply" and e["fieldsV1"] == {
        "f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}


def test_reapply_changes_and_removes_what_is_no_longer_applied():
    obj = do(None, cm({"a": "1", "b": "2"}, {"app": "x"}), "alice")
    obj = do(obj, cm({"a": "9"}), "alice")
    assert obj["data"] == {"a": "9"}
    assert "labels" not in obj["metadata"]


def test_fields_owned_by_others_survive_removal():
    obj = do(None, cm({"a": "1"}), "alice")
    obj = do(obj, cm({"a": "1", "b": "2"}), "bob")  # same value: shared, no conflict
    obj = do(obj, cm(), "alice")
    assert obj["data"] == {"a": "1", "b": "2"}  # bob still applies both
    assert "alice" not in owners(obj)


def test_conflict_message_and_causes_then_force():
    obj = do(None, cm({"a": "1"}), "alice")
    with pytest.raises(StatusError) as e:
        do(obj, cm({"a": "2"}), "bob")
    err = e.value
    assert err.code == 409 and err.reason == "Conflict"
    assert err.message == 'Apply failed with 1 conflict: conflict with "alice": .data.a'
    assert [c.to_dict() for c in err.causes] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".data.a"}]
    forced = do(obj, cm({"a": "2"}), "bob", force=True)
    assert forced["data"]["a"] == "2"
    assert "alice" not in owners(forced)  # its only field moved to bob


def test_conflicts_with_updaters_name_their_version_and_list_every_field():
    live = update_managed_fields(None, cm({"a": "1", "b": "1"}), "kubectl-edit", api_version="v1", now=T0)
    with pytest.raises(StatusError) as e:
        do(live, cm({"a": "2", "b": "2"}), "bob")
    assert e.value.message == ('Apply failed with 2 conflicts: conflicts with "kubectl-edit" using v1:\n'
                               "- .data.a\n- .data.b")


def deployment_like_pod(containers):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "d"},
            "spec": {"containers": containers}}


def test_keyed_lists_merge_by_key_and_items_are_removed_by_their_applier():
    obj = do(None, deployment_like_pod([{"name": "a", "image": "x", "ports": [{"containerPort": 80}]}]),
             "alice", kind="Pod")
    obj = do(obj, deployment_like_pod([{"name": "b", "image": "y"}]), "bob", kind="Pod")
    assert [c["name"] for c in obj["spec"]["containers"]] == ["a", "b"]
    ports = owners(obj)["alice"]["fieldsV1"]["f:spec"]["f:containers"]['k:{"name":"a"}']["f:ports"]
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in ports
    obj = do(obj, deployment_like_pod([{"name": "a", "image": "x2"}]), "alice", kind="Pod")
    assert obj["spec"]["containers"] == [{"name": "a", "image": "x2"}, {"name": "b", "image": "y"}]


def test_sets_union_and_atomic_lists_replace():
    def with_fin(fins, args):
        p = deployment_like_pod([{"name": "a", "image": "x", "args": args}])
        p["metadata"]["finalizers"] = fins
        return p
    obj = do(None, with_fin(["x/one"], ["1", "2"]), "alice", kind="Pod")
    obj = do(obj, with_fin(["x/two"], ["1", "2"]), "bob", kind="Pod")
    assert obj["metadata"]["finalizers"] == ["x/one", "x/two"]
    with pytest.raises(StatusError):
        do(obj, with_fin(["x/two"], ["3"]), "bob", kind="Pod")  # args is atomic, owned by both


def test_unknown_fields_and_wrong_kind_are_400():
    bad = cm({"a": "1"})
    bad["spec"] = {"x": 1}
    with pytest.raises(StatusError) as e:
        do(None, bad, "alice")
    assert e.value.code == 400
    assert e.value.message == ("failed to create typed patch object (d/c; /v1, Kind=ConfigMap): "
                               ".spec: field not declared in schema")
    with pytest.raises(StatusError) as e:
        do(None, cm(), "alice", api_version="v2")
    assert "Incorrect version specified in apply patch" in e.value.message


def test_kubectl_takes_over_from_client_side_apply_and_keeps_annotation_in_step():
    applied = cm({"a": "1"})
    live = cm({"a": "1"})
    live["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(applied)}
    live = update_managed_fields(None, live, "kubectl-client-side-apply", api_version="v1", now=T0)
    obj = do(live, cm({"a": "2"}), "kubectl")
    assert obj["data"]["a"] == "2"
    assert json.loads(obj["metadata"]["annotations"][LAST_APPLIED])["data"] == {"a": "2"}
    assert owners(obj)["kubectl"]["fieldsV1"] == {"f:data": {"f:a": {}}}
    # another manager gets no such pass
    with pytest.raises(StatusError):
        do(live, cm({"a": "2"}), "someone-else")


def test_a_no_op_reapply_keeps_the_entry_unchanged():
    first = apply(None, cm({"a": "1"}), "alice", force=False, api_version="v1", kind="ConfigMap", now=T0)
    again = apply(first, cm({"a": "1"}), "alice", force=False, api_version="v1", kind="ConfigMap", now=T1)
    assert again == first


def test_duplicate_keyed_items_in_a_configuration_are_rejected():
    pod = deployment_like_pod([{"name": "a", "image": "x"}, {"name": "a", "image": "y"}])
    with pytest.raises(StatusError) as e:
        do(None, pod, "alice", kind="Pod")
    assert e.value.code == 400
    assert e.value.message.endswith('.spec.containers: duplicate entries for key [name="a"]')


def test_a_configuration_carrying_managed_fields_is_refused():
    config = cm({"a": "1"})
    config["metadata"]["managedFields"] = [{"manager": "x"}]
    with pytest.raises(StatusError) as e:
        do(None, config, "alice")
    assert (e.value.code, e.value.message) == (400, "metadata.managedFields must be nil")
