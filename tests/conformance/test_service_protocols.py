"""[sig-network] Services: one port number, two protocols (service.go). The backend
answers HTTP and UDP on port 80 (the nettest image: busybox httpd, `udp serve`);
the exec pod reaches the ClusterIP over each protocol the Service exposes, and not
over the one it stopped exposing. The address is checked against the proxy's
rules first; a port without a rule is refused on this machine (the service range
is routed locally)."""
from __future__ import annotations

from tests.conformance.dataplane import (NETTEST, exec_pod, require_dataplane, require_nettest,
                                         wait_programmed)
from tests.conformance.rows import row
from tests.conformance.support import wait_for

PORTS = {"TCP": {"name": "tcp-port", "port": 80, "protocol": "TCP"},
         "UDP": {"name": "udp-port", "port": 80, "protocol": "UDP"}}


def _answers(kubectl, ns: str, pod: str, ip: str, protocol: str) -> bool:
    cmd = ["udp", "dial", "-t", "2", ip, "80", "hostname"] if protocol == "UDP" else \
        ["timeout", "3", "wget", "-qO-", f"http://{ip}:80/hostname"]
    done = kubectl("exec", "-n", ns, pod, "--", *cmd, check=False)
    return done.returncode == 0 and done.stdout.strip() == "multiprotocol"


def _only(kubectl, ns: str, pod: str, ip: str, protocols: set[str]) -> None:
    """The ClusterIP answers over these protocols and not over the others (polled: the
    proxy applies the change within a sync)."""
    seen: list[set[str]] = []

    def answering() -> bool:
        seen.append({p for p in PORTS if _answers(kubectl, ns, pod, ip, p)})
        return seen[-1] == protocols
    try:
        wait_for(answering, timeout=60, interval=1, what=f"{ip}:80 answering over exactly {sorted(protocols)}")
    except AssertionError as e:
        raise AssertionError(f"{e}; last answered over {sorted(seen[-1]) if seen else None}") from None


@row("Service, same ports with different protocols", release="v1.29", needs="CTRL+POD",
     codename="[sig-network] Services should serve endpoints on same port and different protocols")
def test_same_port_different_protocols(core, kubectl, ns):
    require_dataplane(core)
    require_nettest()
    labels = {"app": "multiprotocol-test"}
    svc = core.create_namespaced_service(ns, {"metadata": {"name": "multiprotocol-test"}, "spec": {
        "selector": labels, "ports": list(PORTS.values())}})
    ip = svc.spec.cluster_ip
    core.create_namespaced_pod(ns, {"metadata": {"name": "multiprotocol", "labels": labels}, "spec": {
        "terminationGracePeriodSeconds": 1, "containers": [{
            "name": "netexec", "image": NETTEST,
            "command": ["sh", "-c", "mkdir -p /www && hostname > /www/hostname && httpd -p 80 -h /www && "
                                    "exec udp serve 80"],
            "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 80, "protocol": "UDP"}]}]}})
    execpod = exec_pod(core, ns, containers=[{"name": "agnhost-container", "image": NETTEST,
                                              "command": ["sleep", "3600"]}])
    wait_programmed(ip)
    _only(kubectl, ns, execpod, ip, {"TCP", "UDP"})
    for protocol in ("TCP", "UDP"):
        # an update, as upstream's (a strategic merge patch would merge by port number)
        body = core.read_namespaced_service("multiprotocol-test", ns)
        body.spec.ports = [PORTS[protocol]]
        assert [p.protocol for p in core.replace_namespaced_service("multiprotocol-test", ns, body).spec.ports] \
            == [protocol]
        _only(kubectl, ns, execpod, ip, {protocol})
