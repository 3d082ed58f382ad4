"""[sig-network] Networking Granular Checks: Pods (networking.go). Upstream runs one
"netserver" pod per node (agnhost netexec: HTTP on 8083, UDP on 8081, both answering
the pod's host name), a test container pod, and a host-network pod; every netserver
must answer from the test pod (intra-pod) and from the node (node-pod).

Here the netservers run busybox httpd and `udp serve` from the nettest image
(hack/build-nettest-image.sh); requests go to pod IPs on the local bridge only.
The pods are shared by the four rows (one namespace for the module)."""
from __future__ import annotations

import uuid

import pytest

from tests.conformance.dataplane import NETTEST, require_nettest
from tests.conformance.rows import row
from tests.conformance.support import wait_for

IMAGE = NETTEST
HTTP_PORT, UDP_PORT = 8083, 8081
NETSERVER = (f"mkdir -p /www && hostname > /www/hostname && httpd -p {HTTP_PORT} -h /www && "
             f"exec udp serve {UDP_PORT}")


def _pod(name: str, command: list[str], node: str | None = None, **spec) -> dict:
    return {"metadata": {"name": name, "labels": {"selector-netserver": "true"} if node else {}},
            "spec": {"terminationGracePeriodSeconds": 1, **({"nodeName": node} if node else {}), **spec,
                     "containers": [{"name": "webserver", "image": IMAGE, "command": command,
                                     "ports": [{"name": "http", "containerPort": HTTP_PORT},
                                               {"name": "udp", "containerPort": UDP_PORT, "protocol": "UDP"}]}]}}


def _schedulable_nodes(core) -> list[str]:
    return [n.metadata.name for n in core.list_node().items if not n.spec.unschedulable and any(
        c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]


@pytest.fixture(scope="module")
def netpods(core):
    """(namespace, {netserver pod IP: host name}, test pod, host-network pod), as upstream's
    NewNetworkingTestConfig sets them up."""
    require_nettest()
    nodes = _schedulable_nodes(core)
    if not nodes:
        pytest.skip("no Ready node to run pods on")
    ns = f"pod-network-test-{uuid.uuid4().hex[:5]}"
    core.create_namespace({"metadata": {"name": ns, "labels": {"e2e-framework": "pocketkube-conformance"}}})
    try:
        servers = [f"netserver-{i}" for i in range(len(nodes))]
        for name, node in zip(servers, nodes):
            core.create_namespaced_pod(ns, _pod(name, ["sh", "-c", NETSERVER], node))
        core.create_namespaced_pod(ns, _pod("test-container-pod", ["sleep", "3600"]))
        core.create_namespaced_pod(ns, _pod("host-test-container-pod", ["sleep", "3600"], hostNetwork=True))

        def ready(name: str):
            p = core.read_namespaced_pod(name, ns)
            return p if p.status.phase == "Running" and p.status.pod_ip else None
        ips = {}
        for name in servers + ["test-container-pod", "host-test-container-pod"]:
            pod = wait_for(lambda: ready(name), timeout=120, what=f"{name} running")
            ips[name] = pod.status.pod_ip
        yield ns, {ips[s]: s for s in servers}, "test-container-pod", "host-test-container-pod"
    finally:
        core.delete_namespace(ns)


def _ask(kubectl, ns: str, pod: str, protocol: str, ip: str) -> str | None:
    cmd = (["udp", "dial", "-t", "3", ip, str(UDP_PORT), "hostname"] if protocol == "udp"
           else ["timeout", "5", "wget", "-qO-", f"http://{ip}:{HTTP_PORT}/hostname"])
    done = kubectl("exec", "-n", ns, pod, "--", *cmd, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def _every_netserver_answers(kubectl, netpods, protocol: str, from_host: bool) -> None:
    ns, servers, test_pod, host_pod = netpods
    source = host_pod if from_host else test_pod
    for ip, hostname in servers.items():
        # upstream retries each endpoint a few times: a server may still be binding its port
        wait_for(lambda: _ask(kubectl, ns, source, protocol, ip) == hostname, timeout=30, interval=1,
                 what=f"{protocol} {ip} answered {hostname} from {source}")


@row("Networking, intra pod http", release="v1.9", needs="POD",
     codename="[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http "
              "[NodeConformance]")
def test_intra_pod_http(kubectl, netpods):
    _every_netserver_answers(kubectl, netpods, "http", from_host=False)


@row("Networking, intra pod udp", release="v1.9", needs="POD",
     codename="[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: udp "
              "[NodeConformance]")
def test_intra_pod_udp(kubectl, netpods):
    _every_netserver_answers(kubectl, netpods, "udp", from_host=False)


@row("Networking, intra pod http, from node", release="v1.9", needs="POD",
     codename="[sig-network] Networking Granular Checks: Pods should function for node-pod communication: http "
              "[LinuxOnly] [NodeConformance]")
def test_node_pod_http(kubectl, netpods):
    _every_netserver_answers(kubectl, netpods, "http", from_host=True)


@row("Networking, intra pod udp, from node", release="v1.9", needs="POD",
     codename="[sig-network] Networking Granular Checks: Pods should function for node-pod communication: udp "
              "[LinuxOnly] [NodeConformance]")
def test_node_pod_udp(kubectl, netpods):
    _every_netserver_answers(kubectl, netpods, "udp", from_host=True)
