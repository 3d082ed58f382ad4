"""The patches kubectl 1.33 really sends for `kubectl apply` (captured by fixtures/capture_kubectl_apply.py)."""
import json
import pathlib

import pytest

from apiserver.machinery import schemas
from apiserver.machinery.patch import strategic_merge_patch

FIXTURES = json.loads((pathlib.Path(__file__).parent / "fixtures" / "kubectl_apply_patches.json").read_text())
CASES = {c["name"]: c for c in FIXTURES["cases"]}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def apply(name):
    case = CASES[name]
    assert case["contentType"] == "application/strategic-merge-patch+json"
    group, _, version = case["apiVersion"].rpartition("/")
    out = strategic_merge_patch(case["live"], case["patch"], schemas.for_kind(group, version, case["kind"]))
    # kubectl records the new configuration; the object then carries it as the next "last applied".
    assert json.loads(out["metadata"]["annotations"][LAST_APPLIED]) == case["new"] | {
        "metadata": case["new"]["metadata"] | {"annotations": case["new"]["metadata"].get("annotations", {})}}
    return out


def by_name(items):
    return {i["name"]: i for i in items}


def test_fixture_comes_from_kubectl_1_33():
    assert FIXTURES["kubectl"].startswith("v1.33")


def test_pod_containers_reorder_add_remove_modify():
    spec = apply("pod-containers-reorder-add-remove-modify")["spec"]
    assert [c["name"] for c in spec["containers"]] == ["sidecar", "c", "a", "d"]  # sidecar: server-only, kept
    a = by_name(spec["containers"])["a"]
    assert a["image"] == "nginx:2"
    assert a["env"] == [{"name": "Y", "value": "2"}]
    assert a["ports"] == [{"containerPort": 80}, {"containerPort": 443}]
    assert spec["tolerations"] == [{"key": "other", "operator": "Exists"}]
    assert spec["nodeName"] == "node-1"


def test_deployment_retain_keys_finalizers_env_labels():
    out = apply("deployment-strategy-volumes-finalizers-env-labels")
    assert out["metadata"]["finalizers"] == ["example.com/b", "server.example.com/keep"]
    assert out["metadata"]["labels"] == {"app": "dep"}
    spec = out["spec"]
    assert spec["strategy"] == {"type": "Recreate"}
    pod_spec = spec["template"]["spec"]
    assert pod_spec["volumes"] == [{"name": "data", "hostPath": {"path": "/tmp"}},
                                   {"name": "conf", "configMap": {"name": "c1"}}]
    assert pod_spec["containers"][0]["env"] == [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]
    assert pod_spec["restartPolicy"] == "Always"


def test_service_ports_by_port():
    spec = apply("service-ports-and-selector")["spec"]
    assert spec["ports"] == [{"name": "https", "port": 443, "targetPort": 8443},
                             {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8081}]
    assert spec["selector"] == {"app": "web"}
    assert spec["clusterIP"] == "10.0.0.10"


def test_configmap_data():
    out = apply("configmap-data")
    assert out["data"] == {"b": "3", "c": "4"}
    assert out["metadata"]["annotations"]["note"] == "x"


def test_unchanged_config_leaves_object_alone():
    case = CASES["pod-no-change"]
    out = apply("pod-no-change")
    assert out["spec"] == case["live"]["spec"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_patch_applies_twice_to_the_same_result(name):
    case = CASES[name]
    group, _, version = case["apiVersion"].rpartition("/")
    schema = schemas.for_kind(group, version, case["kind"])
    once = strategic_merge_patch(case["live"], case["patch"], schema)
    assert strategic_merge_patch(once, case["patch"], schema) == once
