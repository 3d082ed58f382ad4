"""networking.k8s.io/v1 through real clients: discoverable, stored, validated as upstream."""
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


@pytest.fixture
def net(api_client):
    return client.NetworkingV1Api(api_client)


def _invalid(call) -> list[str]:
    with pytest.raises(ApiException) as e:
        call()
    assert e.value.status == 422, e.value.body
    return [c["field"] for c in json.loads(e.value.body)["details"]["causes"]]


def test_discovery_lists_the_group(kubectl):
    out = kubectl("api-resources", "--api-group=networking.k8s.io", "-o", "name").stdout.split()
    assert sorted(out) == ["ingressclasses.networking.k8s.io", "ingresses.networking.k8s.io",
                           "ipaddresses.networking.k8s.io", "networkpolicies.networking.k8s.io",
                           "servicecidrs.networking.k8s.io"]


def test_ingress_and_class_lifecycle(net, namespace, kubectl):
    net.create_ingress_class({"metadata": {"name": f"c-{namespace}"}, "spec": {"controller": "example.com/ingress"}})
    ing = net.create_namespaced_ingress(namespace, {"metadata": {"name": "web"}, "spec": {
        "ingressClassName": f"c-{namespace}",
        "rules": [{"host": "*.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}})
    assert ing.spec.rules[0].host == "*.example.com"
    out = kubectl("get", "ingress", "web", "-n", namespace).stdout
    assert out.split("\n")[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    assert f"c-{namespace}" in out and "*.example.com" in out
    net.patch_namespaced_ingress_status("web", namespace, {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}})
    assert "192.0.2.1" in kubectl("get", "ingress", "web", "-n", namespace).stdout
    fields = _invalid(lambda: net.patch_ingress_class(f"c-{namespace}", {"spec": {"controller": "example.com/other"}}))
    assert fields == ["spec.controller"]
    net.delete_namespaced_ingress("web", namespace)
    net.delete_ingress_class(f"c-{namespace}")


def test_ingress_validation(net, namespace, kubectl):
    bad = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "bad", "namespace": namespace},
           "spec": {"rules": [{"host": "10.0.0.1", "http": {"paths": [
               {"path": "relative", "pathType": "Exact", "backend": {"service": {"name": "s", "port": {}}}},
               {"path": "/x", "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]}}
    r = kubectl("create", "--validate=false", "-f", "-", input=json.dumps(bad), check=False)
    assert r.returncode != 0 and 'The Ingress "bad" is invalid' in r.stderr, r.stderr
    for f in ("spec.rules[0].host: Invalid value", "spec.rules[0].http.paths[0].path: Invalid value",
              "spec.rules[0].http.paths[0].backend.service.port: Required value",
              "spec.rules[0].http.paths[1].pathType: Required value"):
        assert f in r.stderr, r.stderr
    assert _invalid(lambda: net.create_namespaced_ingress(namespace, {"metadata": {"name": "empty"},
                                                                      "spec": {}})) == ["spec"]


def test_network_policy_defaults_and_validation(net, namespace, kubectl):
    np = net.create_namespaced_network_policy(namespace, {"metadata": {"name": "allow"}, "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"ports": [{"port": 80}], "from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
        "egress": [{"to": [{"namespaceSelector": {}}]}]}})
    assert np.spec.policy_types == ["Ingress", "Egress"]
    assert np.spec.ingress[0].ports[0].protocol == "TCP"
    assert "app=web" in kubectl("get", "netpol", "allow", "-n", namespace).stdout
    fields = _invalid(lambda: net.create_namespaced_network_policy(namespace, {"metadata": {"name": "bad"}, "spec": {
        "podSelector": {}, "policyTypes": ["Sideways"],
        "ingress": [{"ports": [{"port": 80, "endPort": 70, "protocol": "ICMP"}],
                     "from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]},
                               "podSelector": {}}, {}]}]}}))
    assert set(fields) == {"spec.policyTypes[0]", "spec.ingress[0].ports[0].protocol",
                           "spec.ingress[0].ports[0].endPort", "spec.ingress[0].from[0].ipBlock.except[0]",
                           "spec.ingress[0].from[0]", "spec.ingress[0].from[1]"}


def test_default_service_cidr_reflects_the_flag(net, kubectl):
    cidr = net.read_service_cidr("kubernetes")
    assert cidr.spec.cidrs == ["10.96.0.0/12"]  # the session server's --service-cluster-ip-range (default)
    assert [(c.type, c.status) for c in cidr.status.conditions] == [("Ready", "True")]
    for version in ("1.27", "1.33"):
        lines = kubectl("get", "servicecidrs", version=version).stdout.splitlines()
        assert lines[0].split() == ["NAME", "CIDRS", "AGE"]
        assert lines[1].split()[:2] == ["kubernetes", "10.96.0.0/12"]


def test_service_cidr_rules(net, kubectl):
    name = "extra-cidrs"
    net.create_service_cidr({"metadata": {"name": name}, "spec": {"cidrs": ["10.200.0.0/24"]}})
    try:
        assert _invalid(lambda: net.patch_service_cidr(name, {"spec": {"cidrs": ["10.201.0.0/24"]}})) == \
            ["spec.cidrs[0]"]
        # a single-stack range may gain its other family, and only that
        net.patch_service_cidr(name, {"spec": {"cidrs": ["10.200.0.0/24", "fd00:10::/64"]}})
        assert "10.200.0.0/24,fd00:10::/64" in kubectl("get", "servicecidr", name).stdout
    finally:
        net.delete_service_cidr(name)
    assert _invalid(lambda: net.create_service_cidr({"metadata": {"name": "two-v4"},
                                                     "spec": {"cidrs": ["10.1.0.0/24", "10.2.0.0/24"]}})) == ["spec.cidrs"]
    r = kubectl("create", "-f", "-", check=False, input=json.dumps({
        "apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR", "metadata": {"name": "bad"},
        "spec": {"cidrs": ["10.1.0.0/33"]}}))
    assert 'spec.cidrs[0]: Invalid value: "10.1.0.0/33": must be a valid CIDR value' in r.stderr, r.stderr


def test_ip_address_rules_and_table(net, kubectl):
    ref = {"group": "", "resource": "services", "namespace": "default", "name": "web"}
    net.create_ip_address({"metadata": {"name": "192.0.2.10"}, "spec": {"parentRef": ref}})
    try:
        for version in ("1.27", "1.33"):
            lines = kubectl("get", "ipaddress", "192.0.2.10", version=version).stdout.splitlines()
            assert lines[0].split() == ["NAME", "PARENTREF"]
            assert lines[1].split() == ["192.0.2.10", "services/default/web"]
        assert _invalid(lambda: net.patch_ip_address("192.0.2.10", {"spec": {"parentRef": {"name": "other"}}})) == \
            ["spec.parentRef"]
    finally:
        net.delete_ip_address("192.0.2.10")
    assert _invalid(lambda: net.create_ip_address({"metadata": {"name": "not-an-ip"},
                                                   "spec": {"parentRef": ref}})) == ["metadata.name"]
    assert _invalid(lambda: net.create_ip_address({"metadata": {"name": "192.0.2.11"},
                                                   "spec": {"parentRef": {"resource": "a/b", "name": ".."}}})) == \
        ["spec.parentRef.resource", "spec.parentRef.name"]


def test_a_services_cluster_ip_is_an_ip_address(net, namespace, kubectl, api_client):
    core = client.CoreV1Api(api_client)
    svc = core.create_namespaced_service(namespace, {"metadata": {"name": "held"},
                                                     "spec": {"ports": [{"port": 80}]}})
    ip = svc.spec.cluster_ip
    held = net.read_ip_address(ip)
    assert (held.spec.parent_ref.resource, held.spec.parent_ref.namespace, held.spec.parent_ref.name) == \
        ("services", namespace, "held")
    assert held.metadata.labels["ipaddress.kubernetes.io/managed-by"] == "ipallocator.k8s.io"
    assert kubectl("get", "ipaddress", ip).stdout.splitlines()[1].split() == [ip, f"services/{namespace}/held"]
    # an address held by an IPAddress (here made by hand) is refused to a Service
    taken = "10.96.200.7"
    net.create_ip_address({"metadata": {"name": taken}, "spec": {"parentRef": {
        "group": "", "resource": "services", "namespace": namespace, "name": "elsewhere"}}})
    try:
        with pytest.raises(ApiException) as e:
            core.create_namespaced_service(namespace, {"metadata": {"name": "wants-taken"},
                                                       "spec": {"clusterIP": taken, "ports": [{"port": 80}]}})
        assert e.value.status == 422 and "provided IP is already allocated" in e.value.body
    finally:
        net.delete_ip_address(taken)
    core.delete_namespaced_service("held", namespace)
    with pytest.raises(ApiException) as e:
        net.read_ip_address(ip)
    assert e.value.status == 404
