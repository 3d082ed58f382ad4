"""v1 componentstatuses through kubectl and the official client, on the session API
server (no controller manager runs there: its components are Unhealthy), then with a
lease held as the controller manager holds it."""
from datetime import datetime, timezone

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


def test_listed_with_health_and_deprecation_warning(kubectl, api_client):
    lease_api = client.CoordinationV1Api(api_client)
    for version in ("1.27", "1.33"):
        r = kubectl("get", "componentstatuses", version=version)
        assert "Warning: v1 ComponentStatus is deprecated in v1.19+" in r.stderr, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0].split() == ["NAME", "STATUS", "MESSAGE", "ERROR"]
        assert [line.split()[0] for line in lines[1:]] == ["scheduler", "controller-manager", "etcd-0"]
        assert lines[3].split()[1:] == ["Healthy", "ok"]
    # the session server runs no controller manager, unless a test left its lease behind
    if lease_api.list_namespaced_lease("kube-system", field_selector="metadata.name=kube-controller-manager").items:
        pytest.skip("a controller manager lease exists on this server")
    cs = client.CoreV1Api(api_client).read_component_status("scheduler")
    assert cs.conditions[0].status == "False" and "kube-controller-manager not found" in cs.conditions[0].error
    now = datetime.now(timezone.utc)
    lease_api.create_namespaced_lease("kube-system", {"metadata": {"name": "kube-controller-manager"}, "spec": {
        "holderIdentity": "test-holder", "leaseDurationSeconds": 3600, "acquireTime": now, "renewTime": now}})
    try:
        got = client.CoreV1Api(api_client).list_component_status()
        assert [(i.metadata.name, i.conditions[0].status, i.conditions[0].message) for i in got.items] == [
            ("scheduler", "True", "ok"), ("controller-manager", "True", "ok"), ("etcd-0", "True", "ok")]
    finally:
        lease_api.delete_namespaced_lease("kube-controller-manager", "kube-system")


def test_read_only_and_unknown_names(api_client, kubectl):
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as e:
        core.read_component_status("kube-dns")
    assert e.value.status == 404, e.value.body  # upstream: 500 "Component not found"
    r = kubectl("delete", "componentstatus", "etcd-0", check=False)
    assert r.returncode != 0 and ("MethodNotAllowed" in r.stderr or "not allowed" in r.stderr), r.stderr
