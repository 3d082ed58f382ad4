"""Which manager a write belongs to and what it may own."""
from openapi import catalogue

from apiserver.machinery.managedfields import writes

PODS = catalogue.load().lookup("", "v1", "pods")
CONFIGMAPS = catalogue.load().lookup("", "v1", "configmaps")


def test_manager_from_option_then_user_agent():
    assert writes.manager_name({"fieldManager": "kubectl-edit", writes.USER_AGENT: "x/1"}) == "kubectl-edit"
    assert writes.manager_name({writes.USER_AGENT: "OpenAPI-Generator/33.1.0/python"}) == "OpenAPI-Generator"
    assert writes.manager_name({writes.USER_AGENT: ""}) == "unknown"
    assert writes.manager_name({}) == "kube-apiserver"  # no request: the server writing for itself


def test_reset_fields_per_endpoint():
    assert writes.ignored_paths(PODS, "") == (("f:status",),)
    assert writes.ignored_paths(PODS, "status") == (("f:spec",),)
    assert writes.ignored_paths(CONFIGMAPS, "") == ()


def pod():
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "d"},
            "spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {"phase": "Pending"}}


def test_record_write_attributes_and_skips():
    new = pod()
    writes.record_write(PODS, new, None, operation="CREATE", options={"fieldManager": "me"}, subresource="",
                        now="2026-01-01T00:00:00Z")
    [entry] = new["metadata"]["managedFields"]
    assert entry["manager"] == "me" and "f:status" not in entry["fieldsV1"]
    applied = pod()
    writes.record_write(PODS, applied, None, operation="CREATE", options={writes.APPLIED: True}, subresource="",
                        now="t")
    assert "managedFields" not in applied["metadata"]
    old, status = pod(), pod()
    status["status"]["phase"] = "Running"
    status["spec"]["containers"][0]["image"] = "changed-but-reset-by-the-strategy"
    writes.record_write(PODS, status, old, operation="UPDATE", options={writes.USER_AGENT: "kubelet/v1.33"},
                        subresource="status", now="t")
    [entry] = status["metadata"]["managedFields"]
    assert (entry["manager"], entry["subresource"]) == ("kubelet", "status")
    assert entry["fieldsV1"] == {"f:status": {"f:phase": {}}}
