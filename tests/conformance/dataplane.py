"""What the Service and DNS rows share: serve-hostname pods, an exec pod to send
requests from, and the checks upstream's service jig makes.

Upstream's serve-hostname (agnhost) answers its pod's name on port 9376; busybox
httpd serving a file holding the hostname does the same here. Before a request
goes to a Service address, `programmed()` checks that the proxy of this machine
has a rule for it (nft), so nothing is sent where no rule keeps it local.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from tests.conformance.support import wait_for

IMAGE = "localhost/busybox"
SERVE_HOSTNAME_PORT = 9376


def serve_hostname_container(ports=(SERVE_HOSTNAME_PORT,)) -> dict:
    servers = " & ".join(f"httpd -f -p {p} -h /www" for p in ports)
    return {"name": "serve-hostname", "image": IMAGE,
            "command": ["sh", "-c", f"mkdir -p /www && hostname > /www/index.html && {servers} & wait"],
            "ports": [{"containerPort": p} for p in ports]}


def serve_hostname_pod(name: str, labels: dict, ports=(SERVE_HOSTNAME_PORT,)) -> dict:
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [serve_hostname_container(ports)]}}


def serve_hostname_rc(core, ns: str, name: str, replicas: int) -> set[str]:
    """An RC of serve-hostname pods labelled name=<name>; returns their names once Running."""
    core.create_namespaced_replication_controller(ns, {
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"name": name},
                 "template": {"metadata": {"labels": {"name": name}},
                              "spec": {"terminationGracePeriodSeconds": 1,
                                       "containers": [serve_hostname_container()]}}}})

    def running():
        pods = core.list_namespaced_pod(ns, label_selector=f"name={name}").items
        ready = [p for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]
        return {p.metadata.name for p in ready} if len(ready) == replicas else None
    return wait_for(running, timeout=120, what=f"{replicas} {name} pods ready")


def exec_pod(core, ns: str, **spec) -> str:
    name = "execpod-" + uuid.uuid4().hex[:5]
    core.create_namespaced_pod(ns, {"metadata": {"name": name},
                                    "spec": {"terminationGracePeriodSeconds": 1,
                                             "containers": [{"name": "agnhost-container", "image": IMAGE,
                                                             "command": ["sleep", "3600"]}], **spec}})
    wait_for(lambda: core.read_namespaced_pod(name, ns).status.phase == "Running", timeout=120,
             what=f"{name} running")
    return name


def local_target() -> bool:
    return os.environ.get("CONFORMANCE_TARGET", "pocketkube") == "pocketkube"


def programmed(address: str, node_port: int | None = None) -> bool:
    """The proxy on this machine has a rule for the address, or for the node port
    (always true against another cluster)."""
    if not local_target():
        return True
    if shutil.which("nft") is None:
        return False
    out = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    return f"tcp . {node_port} : " in out if node_port else f"{address} . " in out


def wait_programmed(address: str) -> None:
    wait_for(lambda: programmed(address), timeout=30, what=f"{address} programmed by the proxy")


NETTEST = "localhost/nettest:latest"   # busybox + udp + porter (hack/build-nettest-image.sh)


def require_nettest() -> None:
    """Rows whose pods run the nettest image skip, saying why, where it was not built."""
    if local_target() and shutil.which("podman") and subprocess.run(
            ["podman", "image", "exists", NETTEST], capture_output=True).returncode != 0:
        pytest.skip(f"{NETTEST} is missing (hack/setup-podman.sh builds it; needs gcc, libc6-dev, libssl-dev)")


def require_dataplane(core) -> None:
    """Rows that send traffic to Services need the proxy and the cluster DNS."""
    from kubernetes.client import ApiException
    try:
        core.read_namespaced_service("kube-dns", "kube-system")
    except ApiException:
        pytest.skip("no cluster DNS (kube-system/kube-dns): the proxy and DNS run with `pocketkube up` as root")


def fetch(kubectl, ns: str, pod: str, host: str, port: int, *, address: str | None = None,
          node_port: bool = False) -> str | None:
    """GET http://host:port/ from the pod; None when it fails. `address` is what the name
    resolves to, checked against the proxy's rules first (node_port: the port is)."""
    assert programmed(address or host, port if node_port else None), \
        f"{address or host}:{port} has no rule of the proxy: not sending"
    done = kubectl("exec", "-n", ns, pod, "--", "timeout", "5", "wget", "-qO-", f"http://{host}:{port}/",
                   check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def hosts_answering(kubectl, ns: str, pod: str, host: str, port: int, tries: int, *,
                    address: str | None = None, node_port: bool = False) -> list[str]:
    return [fetch(kubectl, ns, pod, host, port, address=address, node_port=node_port) for _ in range(tries)]


def reachable(kubectl, ns: str, pod: str, host: str, port: int, expected: set[str], *,
              address: str | None = None, node_port: bool = False, timeout: float = 60) -> None:
    """Upstream's CheckServiceReachability: the service answers, with one of its pods."""
    wait_for(lambda: fetch(kubectl, ns, pod, host, port, address=address, node_port=node_port) in expected,
             timeout=timeout,
             interval=1, what=f"{host}:{port} answered by one of {sorted(expected)}")


def nslookup(kubectl, ns: str, pod: str, name: str, qtype: str = "a") -> str:
    """busybox nslookup asks every search-list candidate at once and exits 1 if any is
    NXDOMAIN: the answers are in its output whatever the exit code."""
    return kubectl("exec", "-n", ns, pod, "--", "nslookup", f"-type={qtype}", name, check=False).stdout


def addresses(output: str, name: str) -> set[str]:
    """A records for `name` (or any name, when name is '') in nslookup's output."""
    found, current = set(), None
    for line in output.splitlines():
        if line.startswith("Name:"):
            current = line.split(None, 1)[1].strip()
        elif line.startswith("Address:") and current and (not name or current == name):
            found.add(line.split(None, 1)[1].strip())
    return found
