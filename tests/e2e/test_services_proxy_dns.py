"""Services reachable (issue 12): the proxy and the cluster DNS on real Podman pods.

Every address a test sends to is first checked in the proxy's nft table
(tests/e2e/network.py); the DNS forwards nothing, so no query leaves the machine.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import urllib.request

import pytest

from tests.e2e.conftest import IMAGE, run_podman
from tests.e2e.network import nft_map, nodeport_programmed, programmed

pytestmark = pytest.mark.podman

WEB = """
apiVersion: v1
kind: ReplicationController
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{app: {name}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: {image}
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && touch /www/ready && exec httpd -f -p 8080 -h /www"]
        ports: [{{containerPort: 8080, name: http}}]
        # a generous probe timeout: exec probes on a loaded machine can take seconds
        readinessProbe: {{exec: {{command: [test, -f, /www/ready]}}, periodSeconds: 1, timeoutSeconds: 10}}
"""
CLIENT = """
apiVersion: v1
kind: Pod
metadata: {{name: client}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{{name: c, image: {image}, command: [sleep, "3600"]}}]
"""


def apply(c, ns: str, text: str) -> None:
    c.kubectl("apply", "-n", ns, "-f", "-", input=text)


def web(c, ns: str, name: str = "web", replicas: int = 2, service_type: str = "ClusterIP", **svc_spec) -> dict:
    apply(c, ns, WEB.format(name=name, replicas=replicas, image=IMAGE))
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
           "spec": {"type": service_type, "selector": {"app": name},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}], **svc_spec}}
    apply(c, ns, json.dumps(svc))
    wait_endpoints(c, ns, name, replicas)
    return c.get("service", name, "-n", ns)


def ready_ips(c, ns: str, service: str) -> set[str]:
    slices = c.get("endpointslices", "-n", ns, "-l", f"kubernetes.io/service-name={service}")["items"]
    return {e["addresses"][0] for s in slices for e in s.get("endpoints") or []
            if (e.get("conditions") or {}).get("ready")}


def wait_endpoints(c, ns: str, service: str, n: int) -> set[str]:
    def check():
        ips = ready_ips(c, ns, service)
        assert len(ips) == n, f"ready {sorted(ips)}; pods:\n" + c.kubectl("get", "pods", "-n", ns, "-o", "wide").stdout
        return ips
    return c.wait_for(f"{n} ready endpoints of {service}", check, timeout=90)


def wait_programmed(c, ip: str, port: int, proto: str = "tcp") -> None:
    c.wait_for(f"{ip}:{port}/{proto} in the proxy's table", lambda: programmed(c.table, ip, proto, port), timeout=30)


def wait_dnat_to(c, ips: set[str], port: int = 8080, gone: set[str] = frozenset()) -> None:
    """The proxy's endpoint chains DNAT to these pods and no longer to `gone` (the
    sync after a change is in: checking only for the new set passes before it)."""
    def current():
        out = subprocess.run(["nft", "list", "table", "ip", c.table], capture_output=True, text=True).stdout
        return {ip for ip in ips | gone if f"dnat to {ip}:{port}" in out}
    c.wait_for(f"DNAT to {sorted(ips)}", lambda: current() == ips, timeout=30)


def host_get(c, ip: str, port: int) -> str:
    assert programmed(c.table, ip, "tcp", port) or nodeport_programmed(c.table, "tcp", port), f"{ip}:{port}"
    with urllib.request.urlopen(f"http://{ip}:{port}/", timeout=5) as r:
        return r.read().decode().strip()


def pod_get(c, ns: str, pod: str, url: str) -> str:
    return c.kubectl("exec", "-n", ns, pod, "--", "timeout", "5", "wget", "-qO-", url).stdout.strip()


def client(c, ns: str) -> str:
    apply(c, ns, CLIENT.format(image=IMAGE))
    c.kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/client", "--timeout=60s")
    return "client"


def pod_names(c, ns: str, app: str) -> set[str]:
    return {p["metadata"]["name"] for p in c.get("pods", "-n", ns, "-l", f"app={app}")["items"]}


def test_pod_reaches_service_by_name_and_the_host_by_cluster_ip_and_node_port(net_cluster, net_ns):
    c, ns = net_cluster, net_ns
    svc = web(c, ns, service_type="NodePort")
    ip, node_port = svc["spec"]["clusterIP"], svc["spec"]["ports"][0]["nodePort"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(c.service_cidr)
    wait_programmed(c, ip, 80)
    pods = pod_names(c, ns, "web")
    cl = client(c, ns)
    resolv = c.kubectl("exec", "-n", ns, cl, "--", "cat", "/etc/resolv.conf").stdout
    assert f"nameserver {c.dns_ip}" in resolv and f"search {ns}.svc.cluster.local svc.cluster.local" in resolv
    wait_programmed(c, c.dns_ip, 53, "udp")
    for name in ("web", f"web.{ns}", f"web.{ns}.svc.cluster.local"):
        assert pod_get(c, ns, cl, f"http://{name}/") in pods
    # the host: ClusterIP, and NodePort on the node's address; both backends answer
    assert {host_get(c, ip, 80) for _ in range(40)} == pods
    node_ip = next(a["address"] for a in c.get("node", c.node)["status"]["addresses"] if a["type"] == "InternalIP")
    c.wait_for("node port programmed", lambda: nodeport_programmed(c.table, "tcp", node_port), timeout=30)
    assert host_get(c, node_ip, node_port) in pods
    # and on loopback, as upstream's kube-proxy serves a host's own clients (route_localnet, masquerade)
    assert {host_get(c, "127.0.0.1", node_port) for _ in range(20)} == pods


def test_scaling_and_readiness_change_who_answers(net_cluster, net_ns):
    c, ns = net_cluster, net_ns
    ip = web(c, ns)["spec"]["clusterIP"]
    wait_programmed(c, ip, 80)
    c.kubectl("scale", "rc", "web", "-n", ns, "--replicas=3")
    ips = wait_endpoints(c, ns, "web", 3)
    wait_dnat_to(c, ips)
    pods = pod_names(c, ns, "web")
    assert len(pods) == 3
    assert {host_get(c, ip, 80) for _ in range(60)} == pods
    # one pod stops being ready: it stops receiving
    gone = sorted(pods)[0]
    c.kubectl("exec", "-n", ns, gone, "--", "rm", "/www/ready")
    before = ips
    ips = wait_endpoints(c, ns, "web", 2)
    wait_dnat_to(c, ips, gone=before - ips)
    assert {host_get(c, ip, 80) for _ in range(40)} == pods - {gone}


def test_session_affinity_holds_a_client_to_one_pod(net_cluster, net_ns):
    c, ns = net_cluster, net_ns
    ip = web(c, ns, sessionAffinity="ClientIP")["spec"]["clusterIP"]
    wait_programmed(c, ip, 80)
    c.wait_for("affinity sets", lambda: "affinity-" in subprocess.run(
        ["nft", "list", "table", "ip", c.table], capture_output=True, text=True).stdout, timeout=30)
    assert len({host_get(c, ip, 80) for _ in range(20)}) == 1
    cl = client(c, ns)
    assert len({pod_get(c, ns, cl, "http://web/") for _ in range(5)}) == 1


def test_a_pod_reaches_itself_through_its_own_service(net_cluster, net_ns):
    c, ns = net_cluster, net_ns
    ip = web(c, ns, name="solo", replicas=1)["spec"]["clusterIP"]
    wait_programmed(c, ip, 80)
    (pod,) = pod_names(c, ns, "solo")
    # (polled: one wget may time out on a loaded machine; a missing hairpin never answers)
    c.wait_for("the pod answered by itself", lambda: pod_get(c, ns, pod, f"http://{ip}/") == pod, timeout=30)
    c.wait_for("the pod, by its service's name", lambda: pod_get(c, ns, pod, "http://solo/") == pod, timeout=30)


def test_headless_service_a_and_srv_records(net_cluster, net_ns):
    c, ns = net_cluster, net_ns
    web(c, ns, name="hl", clusterIP="None")
    ips = ready_ips(c, ns, "hl")
    cl = client(c, ns)
    wait_programmed(c, c.dns_ip, 53, "udp")
    fqdn = f"hl.{ns}.svc.cluster.local"
    out = c.kubectl("exec", "-n", ns, cl, "--", "nslookup", "-type=a", fqdn).stdout
    assert {ln.split()[-1] for ln in out.splitlines() if ln.startswith("Address") and "#" not in ln
            and ":53" not in ln} == ips
    srv = c.kubectl("exec", "-n", ns, cl, "--", "nslookup", "-type=srv", f"_http._tcp.{fqdn}").stdout
    targets = {ln.split()[-1] for ln in srv.splitlines() if "service =" in ln}
    assert targets == {f"{ip.replace('.', '-')}.{fqdn}" for ip in ips}
    assert all("0 100 8080" in ln for ln in srv.splitlines() if "service =" in ln)


def _udp_server(ip: str, reply: bytes) -> tuple[socket.socket, int]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    s.settimeout(0.2)
    return s, s.getsockname()[1]


def _serve_once(server: socket.socket, reply: bytes) -> None:
    try:
        _, addr = server.recvfrom(512)
        server.sendto(reply, addr)
    except TimeoutError:
        pass


def test_udp_service_follows_its_endpoint_after_conntrack_flush(net_cluster, net_ns):
    """A selectorless UDP Service whose EndpointSlice the test writes, pointing at two
    servers on the node's address: one client socket (one conntrack entry) follows the
    endpoint when it moves, because the proxy deletes the stale entry."""
    c, ns = net_cluster, net_ns
    node_ip = next(a["address"] for a in c.get("node", c.node)["status"]["addresses"] if a["type"] == "InternalIP")
    a, port_a = _udp_server(node_ip, b"A")
    b, port_b = _udp_server(node_ip, b"B")
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo"},
           "spec": {"ports": [{"name": "echo", "port": 5300, "protocol": "UDP"}]}}
    apply(c, ns, json.dumps(svc))

    def endpoint_slice(port: int) -> str:
        return json.dumps({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                           "metadata": {"name": "echo-1", "labels": {"kubernetes.io/service-name": "echo"}},
                           "addressType": "IPv4", "ports": [{"name": "echo", "port": port, "protocol": "UDP"}],
                           "endpoints": [{"addresses": [node_ip], "conditions": {"ready": True}}]})

    apply(c, ns, endpoint_slice(port_a))
    ip = c.get("service", "echo", "-n", ns)["spec"]["clusterIP"]
    c.wait_for("echo programmed", lambda: f"{ip} . udp . 5300 :" in nft_map(c.table, "service-ips"), timeout=30)
    wait_dnat_to(c, {node_ip}, port_a)
    client_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client_sock.settimeout(0.3)
    try:
        def ask() -> bytes | None:
            assert programmed(c.table, ip, "udp", 5300)
            client_sock.sendto(b"?", (ip, 5300))
            _serve_once(a, b"A")
            _serve_once(b, b"B")
            try:
                return client_sock.recv(16)
            except TimeoutError:
                return None

        assert c.wait_for("an answer from A", lambda: ask() == b"A", timeout=10)
        apply(c, ns, endpoint_slice(port_b))
        wait_dnat_to(c, {node_ip}, port_b)
        assert c.wait_for("the same socket answered by B", lambda: ask() == b"B", timeout=10)
    finally:
        for s in (client_sock, a, b):
            s.close()


NETTEST = "localhost/nettest:latest"   # busybox plus `udp` (hack/build-nettest-image.sh)


def test_a_pod_reaches_a_udp_service_backed_by_pods(net_cluster, net_ns):
    """Datagrams from a pod through a UDP ClusterIP to `udp serve` pods, and back:
    each answer is the name of the pod that served it."""
    c, ns = net_cluster, net_ns
    if run_podman("image", "exists", NETTEST).returncode != 0:
        pytest.skip(f"{NETTEST} is missing (hack/setup-podman.sh builds it; needs gcc, libc6-dev)")
    apply(c, ns, WEB.format(name="udp", replicas=2, image=NETTEST).replace(
        "exec httpd -f -p 8080 -h /www", "exec udp serve 8080").replace(
        "{containerPort: 8080, name: http}", "{containerPort: 8080, name: dgram, protocol: UDP}"))
    apply(c, ns, json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "udp"},
                             "spec": {"selector": {"app": "udp"}, "ports": [
                                 {"name": "dgram", "port": 53530, "targetPort": "dgram", "protocol": "UDP"}]}}))
    wait_endpoints(c, ns, "udp", 2)
    ip = c.get("service", "udp", "-n", ns)["spec"]["clusterIP"]
    wait_programmed(c, ip, 53530, "udp")
    pods = pod_names(c, ns, "udp")
    apply(c, ns, CLIENT.format(image=NETTEST))
    c.kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/client", "--timeout=60s")

    def ask() -> str:
        assert programmed(c.table, ip, "udp", 53530)
        # a new socket per exec: a new conntrack entry, so load balancing applies each time
        return c.kubectl("exec", "-n", ns, "client", "--", "udp", "dial", "-t", "3", ip, "53530", "hostname",
                         check=False).stdout.strip()
    seen: set[str] = set()
    c.wait_for("both udp pods answered", lambda: seen.add(ask()) or seen >= pods, timeout=60)
    assert seen <= pods | {""}, seen


def test_no_endpoints_rejects_and_the_service_range_stays_local(net_cluster, net_ns):
    c, ns = net_cluster, net_ns
    apply(c, ns, json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty"},
                             "spec": {"selector": {"app": "nothing"}, "ports": [{"port": 80}]}}))
    ip = c.get("service", "empty", "-n", ns)["spec"]["clusterIP"]
    c.wait_for("reject programmed", lambda: f"{ip} . tcp . 80 : goto reject-chain" in nft_map(
        c.table, "no-endpoint-services"), timeout=30)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((ip, 80), timeout=5)
    # the whole range is routed here: an address without a rule never leaves the machine
    route = subprocess.run(["ip", "route", "show", "table", "local", c.service_cidr], capture_output=True,
                           text=True).stdout
    assert route.startswith(f"local {c.service_cidr} dev lo"), route


def test_load_balancer_service_gets_the_node_address(net_cluster, net_ns):
    c, ns = net_cluster, net_ns
    web(c, ns, name="lb", replicas=1, service_type="LoadBalancer")
    node_ip = next(a["address"] for a in c.get("node", c.node)["status"]["addresses"] if a["type"] == "InternalIP")
    ingress = c.wait_for("load balancer ingress", lambda: (c.get("service", "lb", "-n", ns).get("status") or {})
                         .get("loadBalancer", {}).get("ingress"), timeout=30)
    assert ingress == [{"ip": node_ip, "ipMode": "VIP"}]
    out = c.kubectl("get", "service", "lb", "-n", ns).stdout
    assert node_ip in out.splitlines()[1]     # EXTERNAL-IP column
    wait_programmed(c, node_ip, 80)
    assert host_get(c, node_ip, 80) in pod_names(c, ns, "lb")
