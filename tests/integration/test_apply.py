"""Server-side apply and managed fields, driven by real kubectl and the Python client."""
from __future__ import annotations

import json

import pytest

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def cm(name: str, data: dict, labels: dict | None = None) -> str:
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})


def get(kubectl, namespace, name, version="1.33") -> dict:
    return json.loads(kubectl("get", "cm", name, "-n", namespace, "-o", "json", "--show-managed-fields",
                              version=version).stdout)


def managers(obj) -> dict:
    return {(m["manager"], m["operation"]): m for m in obj["metadata"].get("managedFields", [])}


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_apply_server_side_create_change_and_remove(kubectl, namespace, version):
    ns = ["-n", namespace]
    kubectl("apply", "--server-side", *ns, "-f", "-", version=version, input=cm("ssa", {"a": "1", "b": "2"}, {"app": "x"}))
    obj = get(kubectl, namespace, "ssa", version)
    entry = managers(obj)[("kubectl", "Apply")]
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}
    kubectl("apply", "--server-side", *ns, "-f", "-", version=version, input=cm("ssa", {"a": "9"}))
    obj = get(kubectl, namespace, "ssa", version)
    assert obj["data"] == {"a": "9"} and "labels" not in obj["metadata"]
    assert managers(obj)[("kubectl", "Apply")]["fieldsV1"] == {"f:data": {"f:a": {}}}


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_conflict_between_managers_then_force(kubectl, namespace, version):
    ns = ["-n", namespace]
    kubectl("apply", "--server-side", "--field-manager=alice", *ns, "-f", "-", version=version,
            input=cm("shared", {"a": "1"}))
    cp = kubectl("apply", "--server-side", "--field-manager=bob", *ns, "-f", "-", version=version,
                 input=cm("shared", {"a": "2"}), check=False)
    assert cp.returncode != 0
    assert 'Apply failed with 1 conflict: conflict with "alice": .data.a' in cp.stderr
    kubectl("apply", "--server-side", "--field-manager=bob", "--force-conflicts", *ns, "-f", "-", version=version,
            input=cm("shared", {"a": "2"}))
    obj = get(kubectl, namespace, "shared", version)
    assert obj["data"] == {"a": "2"}
    assert set(managers(obj)) == {("bob", "Apply")}


def test_kubectl_diff_exit_codes(kubectl, namespace):
    ns = ["-n", namespace]
    kubectl("apply", "--server-side", *ns, "-f", "-", input=cm("d", {"a": "1"}))
    same = kubectl("diff", "--server-side", *ns, "-f", "-", input=cm("d", {"a": "1"}), check=False)
    assert same.returncode == 0, same.stderr
    changed = kubectl("diff", "--server-side", *ns, "-f", "-", input=cm("d", {"a": "2"}), check=False)
    assert changed.returncode == 1, changed.stderr
    assert '-  a: "1"' in changed.stdout and '+  a: "2"' in changed.stdout
    assert get(kubectl, namespace, "d")["data"] == {"a": "1"}  # dry run: nothing stored
    client_side = kubectl("diff", *ns, "-f", "-", input=cm("d", {"a": "2"}), check=False)
    assert client_side.returncode == 1, client_side.stderr
    changed_lines = [line for line in client_side.stdout.splitlines()
                     if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed_lines == ['-  a: "1"', '+  a: "2"']  # nothing else: no `annotations: {}` left behind


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_client_side_apply_tour_then_server_side_upgrade(kubectl, namespace, version):
    ns = ["-n", namespace]
    kubectl("apply", *ns, "-f", "-", version=version, input=cm("csa", {"a": "1", "b": "2"}, {"app": "x", "t": "y"}))
    kubectl("apply", *ns, "-f", "-", version=version, input=cm("csa", {"a": "5"}, {"app": "x"}))
    obj = get(kubectl, namespace, "csa", version)
    assert obj["data"] == {"a": "5"} and obj["metadata"]["labels"] == {"app": "x"}
    assert ("kubectl-client-side-apply", "Update") in managers(obj)
    # moving to server-side apply takes over the client-side fields without conflicts
    kubectl("apply", "--server-side", *ns, "-f", "-", version=version, input=cm("csa", {"a": "6"}, {"app": "x"}))
    obj = get(kubectl, namespace, "csa", version)
    assert obj["data"] == {"a": "6"}
    assert json.loads(obj["metadata"]["annotations"][LAST_APPLIED])["data"] == {"a": "6"}
    assert ("kubectl", "Apply") in managers(obj)


def test_every_verb_keeps_managed_fields(kubectl, namespace):
    ns = ["-n", namespace]
    kubectl("create", *ns, "-f", "-", input=cm("verbs", {"a": "1"}))
    kubectl("label", *ns, "cm", "verbs", "tier=web")
    kubectl("patch", *ns, "cm", "verbs", "--type=merge", "-p", '{"data":{"b":"2"}}')
    obj = get(kubectl, namespace, "verbs")
    m = managers(obj)
    assert m[("kubectl-create", "Update")]["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}
    assert m[("kubectl-label", "Update")]["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:tier": {}}}}
    assert m[("kubectl-patch", "Update")]["fieldsV1"] == {"f:data": {"f:b": {}}}
    assert all(e["fieldsType"] == "FieldsV1" and e["apiVersion"] == "v1" and e["time"] for e in m.values())


def test_python_dynamic_client_apply(api_client, namespace):
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic import DynamicClient

    cms = DynamicClient(api_client).resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py"}, "data": {"k": "v"}}
    obj = cms.patch(body=body, name="py", namespace=namespace, content_type="application/apply-patch+yaml",
                    field_manager="py-a")
    assert obj.metadata.managedFields[0].manager == "py-a"
    changed = dict(body, data={"k": "w"})
    with pytest.raises(ApiException) as e:
        cms.patch(body=changed, name="py", namespace=namespace, content_type="application/apply-patch+yaml",
                  field_manager="py-b")
    assert e.value.status == 409
    status = json.loads(e.value.body)
    assert status["reason"] == "Conflict"
    assert status["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "py-a"', "field": ".data.k"}]
    dry = cms.server_side_apply(body=changed, name="py", namespace=namespace, field_manager="py-b",
                                force_conflicts=True, dry_run="All")
    assert dry.data.k == "w"
    assert cms.get(name="py", namespace=namespace).data.k == "v"
    with pytest.raises(ApiException) as e:
        cms.patch(body=body, name="py", namespace=namespace, content_type="application/apply-patch+yaml")
    assert e.value.status == 422 and "fieldManager: Required value: is required for apply patch" in e.value.body


def test_apply_of_an_undeclared_field_is_a_bad_request(kubectl, namespace):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typo"},
           "spec": {"containers": [{"name": "c", "image": "busybox", "imagePullPolice": "Always"}]}}
    cp = kubectl("apply", "--server-side", "-n", namespace, "-f", "-", input=json.dumps(pod), check=False)
    assert cp.returncode != 0
    assert (f"Error from server (BadRequest): failed to create typed patch object ({namespace}/typo; /v1, Kind=Pod): "
            '.spec.containers[name="c"].imagePullPolice: field not declared in schema') in cp.stderr


def test_typed_python_client_apply_and_force_only_for_apply(api_client, namespace):
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typed", "labels": {"name": "typed"}},
           "spec": {"containers": [{"image": "busybox", "name": "c",
                                    "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}
    resp = core.patch_namespaced_pod("typed", namespace, body=pod, field_manager="kubernetes-unittests",
                                     dry_run="All", force=True, _content_type="application/apply-patch+yaml")
    assert resp.metadata.managed_fields[0].manager == "kubernetes-unittests"
    with pytest.raises(client.ApiException) as e:
        core.patch_namespaced_pod("typed", namespace, body=pod, force=True)
    assert e.value.status == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in e.value.body
