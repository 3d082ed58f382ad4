"""[sig-network] Services, Endpoints, EndpointSlices: API rows (service.go, endpointslice.go)."""
from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import Watcher, wait_for


@row("Kubernetes Service", release="v1.9", needs="API",
     codename="[sig-network] Services should provide secure master service")
def test_kubernetes_service_exists(core):
    assert core.read_namespaced_service("kubernetes", "default").metadata.name == "kubernetes"


@row("Find Kubernetes Service in default Namespace", release="v1.18", needs="API",
     codename="[sig-network] Services should find a service from listing all namespaces")
def test_find_kubernetes_service_in_all_namespaces(core):
    services = core.list_service_for_all_namespaces().items
    assert any(s.metadata.name == "kubernetes" and s.metadata.namespace == "default" for s in services)


@row("Service, complete ServiceStatus lifecycle", release="v1.21", needs="API",
     codename="[sig-network] Services should complete a service status lifecycle")
def test_service_status_lifecycle(core, ns):
    name = "test-service-" + uuid.uuid4().hex[:5]
    label = {"test-service-static": "true"}
    listed = core.list_namespaced_service(ns, label_selector="test-service-static=true")
    w = Watcher(core.list_namespaced_service, namespace=ns, label_selector="test-service-static=true",
                resource_version=listed.metadata.resource_version)
    core.create_namespaced_service(ns, {"metadata": {"name": name, "labels": label},
                                        "spec": {"type": "LoadBalancer",
                                                 "ports": [{"name": "http", "protocol": "TCP", "port": 80,
                                                            "targetPort": 80}],
                                                 "selector": {"test-service-static": "true"}}})
    w.expect_event("ADDED")
    assert len(core.list_namespaced_service(ns, label_selector="test-service-static=true").items) == 1

    status = core.read_namespaced_service_status(name, ns)
    assert status.metadata.name == name
    patched = core.patch_namespaced_service_status(name, ns, {
        "metadata": {"annotations": {"patchedstatus": "true"}},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.1"}]}}})
    assert patched.status.load_balancer.ingress[0].ip == "203.0.113.1"
    assert w.expect_event("MODIFIED")["metadata"]["annotations"]["patchedstatus"] == "true"

    svc = core.read_namespaced_service_status(name, ns)
    svc.status.conditions = [client.V1Condition(type="StatusUpdate", status="True", reason="E2E",
                                                message="Set from e2e test",
                                                last_transition_time="2024-01-01T00:00:00Z")]
    updated = core.replace_namespaced_service_status(name, ns, svc)
    assert updated.status.conditions[0].message == "Set from e2e test"
    w.expect_event("MODIFIED")

    patched = core.patch_namespaced_service(name, ns, {"metadata": {"labels": {"test-service": "patched"}}})
    assert patched.metadata.labels["test-service"] == "patched"
    w.expect_event("MODIFIED")

    core.delete_namespaced_service(name, ns)
    w.expect_event("DELETED")
    w.stop()


@row("Service, deletes a collection of services", release="v1.23", needs="API",
     codename="[sig-network] Services should delete a collection of services")
def test_service_delete_collection(core, ns):
    for i in range(1, 4):
        core.create_namespaced_service(ns, {"metadata": {"name": f"e2e-svc-{i}-{uuid.uuid4().hex[:4]}",
                                                         "labels": {"e2e-test-service": "delete"}},
                                            "spec": {"ports": [{"port": 80 + i, "targetPort": 80}]}})
    core.create_namespaced_service(ns, {"metadata": {"name": "e2e-svc-keep", "labels": {"e2e-test-service": "keep"}},
                                        "spec": {"ports": [{"port": 80, "targetPort": 80}]}})
    assert len(core.list_namespaced_service(ns).items) == 4
    core.delete_collection_namespaced_service(ns, label_selector="e2e-test-service=delete")
    left = core.list_namespaced_service(ns).items
    assert [s.metadata.name for s in left] == ["e2e-svc-keep"]


@row("Endpoint resource lifecycle", release="v1.19", needs="API",
     codename="[sig-network] Services should test the lifecycle of an Endpoint")
def test_endpoint_lifecycle(core, ns):
    name = "testservice"
    label = "test-endpoint-static=true"
    listed = core.list_namespaced_endpoints(ns, label_selector=label)
    w = Watcher(core.list_namespaced_endpoints, namespace=ns, label_selector=label,
                resource_version=listed.metadata.resource_version)
    core.create_namespaced_endpoints(ns, {"metadata": {"name": name, "labels": {"test-endpoint-static": "true"}},
                                          "subsets": [{"addresses": [{"ip": "10.0.0.24"}],
                                                       "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]})
    w.expect_event("ADDED")
    everywhere = core.list_endpoints_for_all_namespaces(label_selector=label).items
    assert any(e.metadata.name == name and e.metadata.namespace == ns for e in everywhere)

    ep = core.read_namespaced_endpoints(name, ns)
    ep.metadata.labels["test-service"] = "updated"
    core.replace_namespaced_endpoints(name, ns, ep)
    assert w.expect_event("MODIFIED")["metadata"]["labels"]["test-service"] == "updated"

    core.patch_namespaced_endpoints(name, ns, {"metadata": {"labels": {"test-service": "patched"}},
                                               "subsets": [{"addresses": [{"ip": "10.0.0.25"}],
                                                            "ports": [{"name": "http-test", "port": 8080,
                                                                       "protocol": "TCP"}]}]})
    w.expect_event("MODIFIED")
    got = core.read_namespaced_endpoints(name, ns)
    assert got.metadata.labels["test-service"] == "patched"
    assert got.subsets[0].addresses[0].ip == "10.0.0.25" and got.subsets[0].ports[0].port == 8080

    core.delete_collection_namespaced_endpoints(ns, label_selector=label)
    w.expect_event("DELETED")
    assert core.list_namespaced_endpoints(ns, label_selector=label).items == []
    w.stop()


@row("EndpointSlice API (pointing to API Server)", release="v1.21", needs="API",
     codename="[sig-network] EndpointSlice should have Endpoints and EndpointSlices pointing to API Server")
def test_endpointslice_points_to_apiserver(api, core):
    endpoints = core.read_namespaced_endpoints("kubernetes", "default")
    assert endpoints.subsets and endpoints.subsets[0].addresses
    slices = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=kubernetes").items
    assert slices
    ep_ips = {a.ip for s in endpoints.subsets for a in s.addresses}
    slice_ips = {a for s in slices for e in (s.endpoints or []) for a in e.addresses}
    assert ep_ips == slice_ips
    ep_ports = {p.port for s in endpoints.subsets for p in s.ports}
    slice_ports = {p.port for s in slices for p in (s.ports or [])}
    assert ep_ports == slice_ports


@row("EndpointSlice API (API operations)", release="v1.21", needs="API",
     codename="[sig-network] EndpointSlice should support creating EndpointSlice API operations")
def test_endpointslice_api_operations(api, ns):
    d = client.DiscoveryV1Api(api)
    label = "special-label=" + ns
    body = lambda: {"metadata": {"generateName": "e2e-example-ing", "labels": {"special-label": ns}},
                    "addressType": "IPv4", "endpoints": [{"addresses": ["1.2.3.4", "5.6.7.8"]}]}
    created = [d.create_namespaced_endpoint_slice(ns, body()) for _ in range(3)]
    got = d.read_namespaced_endpoint_slice(created[0].metadata.name, ns)
    assert got.metadata.uid == created[0].metadata.uid
    assert len(d.list_namespaced_endpoint_slice(ns, label_selector=label).items) == 3
    assert len(d.list_endpoint_slice_for_all_namespaces(label_selector=label).items) == 3

    listed = d.list_namespaced_endpoint_slice(ns, label_selector=label)
    w = Watcher(d.list_namespaced_endpoint_slice, namespace=ns, label_selector=label,
                resource_version=listed.metadata.resource_version)
    patched = d.patch_namespaced_endpoint_slice(created[0].metadata.name, ns,
                                                {"metadata": {"annotations": {"patched": "true"}}})
    assert patched.metadata.annotations["patched"] == "true"
    w.expect_event("MODIFIED")
    current = d.read_namespaced_endpoint_slice(created[0].metadata.name, ns)
    current.metadata.annotations["updated"] = "true"
    updated = d.replace_namespaced_endpoint_slice(created[0].metadata.name, ns, current)
    assert updated.metadata.annotations["updated"] == "true"
    w.expect_event("MODIFIED")

    d.delete_namespaced_endpoint_slice(created[0].metadata.name, ns)
    w.expect_event("DELETED")
    with pytest.raises(client.ApiException) as err:
        d.read_namespaced_endpoint_slice(created[0].metadata.name, ns)
    assert err.value.status == 404
    assert len(d.list_namespaced_endpoint_slice(ns, label_selector=label).items) == 2
    d.delete_collection_namespaced_endpoint_slice(ns, label_selector=label)
    assert d.list_namespaced_endpoint_slice(ns, label_selector=label).items == []
    w.stop()


@row("EndpointSlice API (create and delete for a Service with a selector)", release="v1.21", needs="CTRL",
     codename="[sig-network] EndpointSlice should create and delete Endpoints and EndpointSlices for a Service with a selector specified")
def test_endpointslice_controller_service_with_selector(api, core, ns):
    d = client.DiscoveryV1Api(api)
    core.create_namespaced_service(ns, {"metadata": {"name": "example-empty-selector"},
                                        "spec": {"selector": {"does-not-match-anything": "endpoints-and-endpoint-slices"},
                                                 "ports": [{"name": "example", "port": 80, "protocol": "TCP"}]}})

    def endpoints():
        try:
            return core.read_namespaced_endpoints("example-empty-selector", ns)
        except client.ApiException:
            return None
    wait_for(endpoints, what="Endpoints for the service")
    slices = lambda: d.list_namespaced_endpoint_slice(
        ns, label_selector="kubernetes.io/service-name=example-empty-selector").items
    wait_for(slices, what="an EndpointSlice for the service")
    core.delete_namespaced_service("example-empty-selector", ns)
    wait_for(lambda: endpoints() is None, what="Endpoints to go")
    wait_for(lambda: not slices(), what="EndpointSlices to go")
