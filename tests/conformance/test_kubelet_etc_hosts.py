"""[sig-node] KubeletManagedEtcHosts (kubelet_etc_hosts.go): the node agent writes
/etc/hosts for pod-network containers, and leaves it to a container that mounts
its own and to host-network pods (theirs is the node's, not the managed one)."""
from __future__ import annotations

from tests.conformance.dataplane import IMAGE
from tests.conformance.rows import row
from tests.conformance.support import wait_for

MANAGED = "# Kubernetes-managed hosts file."


def _pod(name: str, host_network: bool) -> dict:
    def box(i: int, mount: bool) -> dict:
        c = {"name": f"busybox-{i}", "image": IMAGE, "command": ["sleep", "900"]}
        if mount:
            c["volumeMounts"] = [{"name": "host-etc-hosts", "mountPath": "/etc/hosts"}]
        return c
    boxes = [box(1, False), box(2, host_network)] + ([] if host_network else [box(3, True)])
    return {"metadata": {"name": name}, "spec": {
        "hostNetwork": host_network, "terminationGracePeriodSeconds": 1, "containers": boxes,
        "volumes": [{"name": "host-etc-hosts", "hostPath": {"path": "/etc/hosts"}}]}}


@row("Kubelet, managed etc hosts", release="v1.9", needs="POD",
     codename="[sig-node] KubeletManagedEtcHosts should test kubelet managed /etc/hosts file [LinuxOnly] "
              "[NodeConformance]")
def test_kubelet_managed_etc_hosts(core, kubectl, ns):
    for name, host_network in (("test-pod", False), ("test-host-network-pod", True)):
        core.create_namespaced_pod(ns, _pod(name, host_network))
    for name in ("test-pod", "test-host-network-pod"):
        wait_for(lambda: core.read_namespaced_pod(name, ns).status.phase == "Running", timeout=120,
                 what=f"{name} running: {core.read_namespaced_pod(name, ns).status}")

    def hosts(pod: str, container: str) -> str:
        return kubectl("exec", "-n", ns, pod, "-c", container, "--", "cat", "/etc/hosts").stdout
    for container in ("busybox-1", "busybox-2"):
        assert hosts("test-pod", container).startswith(MANAGED), container
    with open("/etc/hosts") as f:
        node_hosts = f.read()
    assert not hosts("test-pod", "busybox-3").startswith(MANAGED)
    for container in ("busybox-1", "busybox-2"):
        assert not hosts("test-host-network-pod", container).startswith(MANAGED), container
    # a container mounting /etc/hosts sees exactly that file (when the suite runs on the node)
    assert hosts("test-host-network-pod", "busybox-2") == node_hosts or not node_hosts
