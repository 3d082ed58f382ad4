"""[sig-network] Services rows that send traffic (service.go): endpoints served from
pods, NodePort, session affinity, type changes. Requests go from an exec pod, as
upstream's; addresses are checked against the proxy's rules before anything is sent."""
from __future__ import annotations

import pytest
from kubernetes import client

from tests.conformance.dataplane import (SERVE_HOSTNAME_PORT, exec_pod, fetch, hosts_answering, local_target,
                                         reachable, require_dataplane, serve_hostname_pod, serve_hostname_rc,
                                         wait_programmed)
from tests.conformance.rows import row
from tests.conformance.support import wait_for


@pytest.fixture
def dataplane(core):
    require_dataplane(core)


def slice_ports(api, ns: str, service: str) -> dict[str, set[int]]:
    """Pod name -> ports, from the Service's EndpointSlices (upstream's validateEndpointsPortsOrFail)."""
    out: dict[str, set[int]] = {}
    for s in client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
            ns, label_selector=f"kubernetes.io/service-name={service}").items:
        for ep in s.endpoints or []:
            if ep.target_ref is not None and (ep.conditions is None or ep.conditions.ready is not False):
                out.setdefault(ep.target_ref.name, set()).update(p.port for p in s.ports or [])
    return out


def wait_endpoints(api, ns: str, service: str, want: dict[str, set[int]]) -> None:
    wait_for(lambda: slice_ports(api, ns, service) == want, timeout=120, what=f"endpoints of {service} == {want}")


def running(core, ns: str, name: str) -> None:
    wait_for(lambda: core.read_namespaced_pod(name, ns).status.phase == "Running", timeout=120, what=f"{name}")


@row("Service, endpoints", release="v1.9", needs="CTRL+POD",
     codename="[sig-network] Services should serve a basic endpoint from pods")
def test_serve_basic_endpoint_from_pods(api, core, kubectl, ns, dataplane):
    name = "endpoint-test2"
    labels = {"name": name}
    svc = core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": {
        "selector": labels, "ports": [{"port": 80, "targetPort": 80}]}})
    wait_endpoints(api, ns, name, {})
    execpod = exec_pod(core, ns)
    for pod in ("pod1", "pod2"):
        core.create_namespaced_pod(ns, serve_hostname_pod(pod, labels, ports=(80,)))
        running(core, ns, pod)
    wait_endpoints(api, ns, name, {"pod1": {80}, "pod2": {80}})
    wait_programmed(svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, name, 80, {"pod1", "pod2"}, address=svc.spec.cluster_ip)
    core.delete_namespaced_pod("pod1", ns, grace_period_seconds=0)
    wait_endpoints(api, ns, name, {"pod2": {80}})
    reachable(kubectl, ns, execpod, name, 80, {"pod2"}, address=svc.spec.cluster_ip)
    core.delete_namespaced_pod("pod2", ns, grace_period_seconds=0)
    wait_endpoints(api, ns, name, {})


@row("Service, endpoints with multiple ports", release="v1.9", needs="CTRL+POD",
     codename="[sig-network] Services should serve multiport endpoints from pods")
def test_serve_multiport_endpoints_from_pods(api, core, kubectl, ns, dataplane):
    name = "multi-endpoint-test"
    labels = {"foo": "bar"}
    svc = core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": {
        "selector": labels, "ports": [{"name": "portname1", "port": 80, "targetPort": "svc1"},
                                      {"name": "portname2", "port": 81, "targetPort": "svc2"}]}})
    wait_endpoints(api, ns, name, {})
    execpod = exec_pod(core, ns)
    for pod, port_name, port in (("pod1", "svc1", 100), ("pod2", "svc2", 101)):
        body = serve_hostname_pod(pod, labels, ports=(port,))
        body["spec"]["containers"][0]["ports"] = [{"name": port_name, "containerPort": port}]
        core.create_namespaced_pod(ns, body)
        running(core, ns, pod)
    wait_endpoints(api, ns, name, {"pod1": {100}, "pod2": {101}})
    wait_programmed(svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, name, 80, {"pod1"}, address=svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, name, 81, {"pod2"}, address=svc.spec.cluster_ip)
    core.delete_namespaced_pod("pod1", ns, grace_period_seconds=0)
    wait_endpoints(api, ns, name, {"pod2": {101}})
    core.delete_namespaced_pod("pod2", ns, grace_period_seconds=0)
    wait_endpoints(api, ns, name, {})


def node_internal_ip(core) -> str:
    for node in core.list_node().items:
        for a in node.status.addresses or []:
            if a.type == "InternalIP":
                return a.address
    raise AssertionError("no node InternalIP")


def nodeport_service(name: str, selector: dict) -> dict:
    return {"metadata": {"name": name}, "spec": {"type": "NodePort", "selector": selector,
                                                 "ports": [{"name": "http", "port": 80, "protocol": "TCP",
                                                            "targetPort": SERVE_HOSTNAME_PORT}]}}


@row("Service, NodePort Service", release="v1.16", needs="CTRL+POD",
     codename="[sig-network] Services should be able to create a functioning NodePort service")
def test_functioning_nodeport_service(core, kubectl, ns, dataplane):
    name = "nodeport-test"
    pods = serve_hostname_rc(core, ns, name, 2)
    svc = core.create_namespaced_service(ns, nodeport_service(name, {"name": name}))
    node_port = svc.spec.ports[0].node_port
    assert node_port
    execpod = exec_pod(core, ns)
    wait_programmed(svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, name, 80, pods, address=svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, svc.spec.cluster_ip, 80, pods)
    node_ip = node_internal_ip(core)
    reachable(kubectl, ns, execpod, node_ip, node_port, pods, node_port=True)


def _affinity_service(core, ns: str, name: str, affinity: str):
    return core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": {
        "selector": {"name": name}, "sessionAffinity": affinity,
        "ports": [{"port": 80, "targetPort": SERVE_HOSTNAME_PORT}]}})


@row("Service, ClusterIP type, session affinity to ClientIP", release="v1.19", needs="CTRL+POD",
     codename="[sig-network] Services should have session affinity work for service with type clusterIP [LinuxOnly]")
def test_session_affinity_cluster_ip(core, kubectl, ns, dataplane):
    name = "affinity-clusterip"
    pods = serve_hostname_rc(core, ns, name, 3)
    svc = _affinity_service(core, ns, name, "ClientIP")
    execpod = exec_pod(core, ns)
    wait_programmed(svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, svc.spec.cluster_ip, 80, pods)
    answers = hosts_answering(kubectl, ns, execpod, svc.spec.cluster_ip, 80, 15)
    assert len(set(answers)) == 1 and answers[0] in pods, answers


@row("Service, ClusterIP type, session affinity to None", release="v1.19", needs="CTRL+POD",
     codename="[sig-network] Services should be able to switch session affinity for service with type clusterIP "
              "[LinuxOnly]")
def test_switch_session_affinity_cluster_ip(core, kubectl, ns, dataplane):
    name = "affinity-clusterip-transition"
    pods = serve_hostname_rc(core, ns, name, 3)
    svc = _affinity_service(core, ns, name, "None")
    ip = svc.spec.cluster_ip
    execpod = exec_pod(core, ns)
    wait_programmed(ip)
    reachable(kubectl, ns, execpod, ip, 80, pods)
    # no affinity: requests spread over the pods
    wait_for(lambda: len(set(hosts_answering(kubectl, ns, execpod, ip, 80, 15))) > 1, timeout=60,
             what="requests spread over more than one pod")
    core.patch_namespaced_service(name, ns, {"spec": {"sessionAffinity": "ClientIP"}})
    wait_for(lambda: len(set(hosts_answering(kubectl, ns, execpod, ip, 80, 15))) == 1, timeout=60,
             what="every request answered by one pod")
    core.patch_namespaced_service(name, ns, {"spec": {"sessionAffinity": "None"}})
    wait_for(lambda: len(set(hosts_answering(kubectl, ns, execpod, ip, 80, 15))) > 1, timeout=60,
             what="requests spread again")


def _affinity_nodeport(core, ns: str, name: str, affinity: str) -> tuple[str, int, set[str]]:
    pods = serve_hostname_rc(core, ns, name, 3)
    svc = core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": {
        "type": "NodePort", "selector": {"name": name}, "sessionAffinity": affinity,
        "ports": [{"port": 80, "targetPort": SERVE_HOSTNAME_PORT}]}})
    wait_programmed(svc.spec.cluster_ip)
    return node_internal_ip(core), svc.spec.ports[0].node_port, pods


@row("Service, NodePort type, session affinity to ClientIP", release="v1.19", needs="CTRL+POD",
     codename="[sig-network] Services should have session affinity work for NodePort service [LinuxOnly]")
def test_session_affinity_nodeport(core, kubectl, ns, dataplane):
    node_ip, node_port, pods = _affinity_nodeport(core, ns, "affinity-nodeport", "ClientIP")
    execpod = exec_pod(core, ns)
    reachable(kubectl, ns, execpod, node_ip, node_port, pods, node_port=True)
    answers = hosts_answering(kubectl, ns, execpod, node_ip, node_port, 15, node_port=True)
    assert len(set(answers)) == 1 and answers[0] in pods, answers


def _external_name_service(core, ns: str, name: str):
    svc = core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": {
        "type": "ExternalName", "externalName": "foo.example.com"}})
    assert not svc.spec.cluster_ip
    return svc


@row("Service, change type, ExternalName to ClusterIP", release="v1.16", needs="CTRL+POD",
     codename="[sig-network] Services should be able to change the type from ExternalName to ClusterIP")
def test_change_type_external_name_to_cluster_ip(core, kubectl, ns, dataplane):
    name = "externalname-service"
    _external_name_service(core, ns, name)
    pods = serve_hostname_rc(core, ns, name, 2)
    svc = core.patch_namespaced_service(name, ns, {"spec": {
        "type": "ClusterIP", "externalName": None, "selector": {"name": name},
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": SERVE_HOSTNAME_PORT}]}})
    assert svc.spec.cluster_ip
    execpod = exec_pod(core, ns)
    wait_programmed(svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, name, 80, pods, address=svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, svc.spec.cluster_ip, 80, pods)


@row("Service, change type, ExternalName to NodePort", release="v1.16", needs="CTRL+POD",
     codename="[sig-network] Services should be able to change the type from ExternalName to NodePort")
def test_change_type_external_name_to_nodeport(core, kubectl, ns, dataplane):
    name = "externalname-service"
    _external_name_service(core, ns, name)
    pods = serve_hostname_rc(core, ns, name, 2)
    svc = core.patch_namespaced_service(name, ns, {"spec": {
        "type": "NodePort", "externalName": None, "selector": {"name": name},
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": SERVE_HOSTNAME_PORT}]}})
    assert svc.spec.cluster_ip and svc.spec.ports[0].node_port
    execpod = exec_pod(core, ns)
    wait_programmed(svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, name, 80, pods, address=svc.spec.cluster_ip)
    reachable(kubectl, ns, execpod, node_internal_ip(core), svc.spec.ports[0].node_port, pods, node_port=True)


def _to_external_name(core, kubectl, ns: str, first_type: str) -> None:
    """Upstream: an 'externalsvc' ClusterIP Service with pods; the test Service turns into
    an ExternalName pointing at its FQDN and is reached through that name."""
    pods = serve_hostname_rc(core, ns, "externalsvc", 2)
    target = core.create_namespaced_service(ns, {"metadata": {"name": "externalsvc"}, "spec": {
        "selector": {"name": "externalsvc"}, "ports": [{"port": 80, "targetPort": SERVE_HOSTNAME_PORT}]}})
    name = f"{first_type.lower()}-service"
    body = {"metadata": {"name": name}, "spec": {"type": first_type, "selector": {"name": "externalsvc"},
                                                 "ports": [{"port": 80, "targetPort": SERVE_HOSTNAME_PORT}]}}
    first = core.create_namespaced_service(ns, body)
    assert first.spec.cluster_ip
    svc = core.patch_namespaced_service(name, ns, {"spec": {
        "type": "ExternalName", "externalName": f"externalsvc.{ns}.svc.cluster.local", "clusterIP": "",
        "clusterIPs": None, "selector": None, "ports": None}})
    assert not svc.spec.cluster_ip and all(not p.node_port for p in svc.spec.ports or [])
    execpod = exec_pod(core, ns)
    wait_programmed(target.spec.cluster_ip)
    reachable(kubectl, ns, execpod, name, 80, pods, address=target.spec.cluster_ip)


@row("Service, change type, ClusterIP to ExternalName", release="v1.16", needs="CTRL+POD",
     codename="[sig-network] Services should be able to change the type from ClusterIP to ExternalName")
def test_change_type_cluster_ip_to_external_name(core, kubectl, ns, dataplane):
    _to_external_name(core, kubectl, ns, "ClusterIP")


@row("Service, change type, NodePort to ExternalName", release="v1.16", needs="CTRL+POD",
     codename="[sig-network] Services should be able to change the type from NodePort to ExternalName")
def test_change_type_nodeport_to_external_name(core, kubectl, ns, dataplane):
    _to_external_name(core, kubectl, ns, "NodePort")


def test_fetch_refuses_an_address_without_a_rule(kubectl):
    """The guard itself: nothing is sent to a service-range address the proxy did not program."""
    if not local_target():
        pytest.skip("the guard checks this machine's proxy")
    with pytest.raises(AssertionError, match="no rule"):
        fetch(kubectl, "default", "none", "10.111.222.1", 80)
