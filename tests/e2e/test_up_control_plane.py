"""`pocketkube up` shows its control plane as kubeadm does: a mirror pod per component
in kube-system, owned by the node agent (Ready from the component's health, its own
log through `kubectl logs`, back when deleted), seen through kubectl and the Python client;
and that node agent got its credentials as a joining node does (bootstrap token, CSRs)."""
from __future__ import annotations

import base64
import json
import os
import random
import time
import uuid

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.e2e.conftest import podman_problem
from tests.harness import kubectl_runner, running_server


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    problem = podman_problem()
    if problem:
        pytest.skip(problem)
    node = f"cp-{uuid.uuid4().hex[:6]}"
    base = tmp_path_factory.mktemp("up-control-plane")
    args = ["--node-name", node, "--kubelet-port", "0", "--dns-upstream", "none",
            "--dns-port", "0", "--no-service-lb",
            "--service-cluster-ip-range", f"10.{random.randint(100, 250)}.0.0/16"]
    with running_server(base / "data", extra_args=args, subcommand="up") as srv:
        yield srv, node, kubectl_runner(srv.kubeconfig, base / "kubectl-home")


def _components() -> list[str]:
    names = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    return names + (["kube-proxy", "coredns"] if os.geteuid() == 0 else [])


def _wait(what: str, check, srv, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (got := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{srv.log(40)}"
        time.sleep(0.2)
    return got


def test_mirror_pods_ready_with_node_owner(up):
    from kubernetes import client, config

    srv, node, _kubectl = up
    api = config.new_client_from_config(config_file=str(srv.kubeconfig))
    core = client.CoreV1Api(api)
    wanted = {f"{c}-{node}" for c in _components()}

    def ready_pods():
        pods = {p.metadata.name: p for p in core.list_namespaced_pod("kube-system").items}
        ok = all(n in pods and any(c.type == "Ready" and c.status == "True" for c in pods[n].status.conditions or [])
                 for n in wanted)
        return ok and pods
    pods = _wait("every control-plane mirror pod Ready", ready_pods, srv)
    node_uid = core.read_node(node).metadata.uid
    for name in wanted:
        p = pods[name]
        assert p.metadata.annotations["kubernetes.io/config.mirror"]
        (owner,) = p.metadata.owner_references
        assert (owner.api_version, owner.kind, owner.name, owner.uid) == ("v1", "Node", node, node_uid)
        assert p.spec.node_name == node and p.status.phase == "Running"
    assert pods[f"kube-apiserver-{node}"].metadata.labels == {"component": "kube-apiserver", "tier": "control-plane"}
    api.close()


def test_kubectl_logs_is_the_components_own_log(up):
    srv, node, kubectl = up
    _wait("the apiserver mirror pod", lambda: kubectl("get", "pod", "-n", "kube-system", f"kube-apiserver-{node}",
                                                      check=False).returncode == 0, srv)
    out = kubectl("logs", "-n", "kube-system", f"kube-apiserver-{node}").stdout
    assert " apiserver" in out and " controllers" not in out, out[-2000:]
    assert len(kubectl("logs", "-n", "kube-system", f"kube-apiserver-{node}", "--tail=2").stdout.splitlines()) == 2
    sched = kubectl("logs", "-n", "kube-system", f"kube-controller-manager-{node}").stdout
    assert " controllers" in sched and " apiserver" not in sched, sched[-2000:]


def test_deleted_mirror_pod_comes_back(up):
    srv, node, kubectl = up
    name = f"kube-scheduler-{node}"
    _wait("the scheduler mirror pod", lambda: kubectl("get", "pod", "-n", "kube-system", name,
                                                      check=False).returncode == 0, srv)
    before = kubectl("get", "pod", "-n", "kube-system", name, "-o", "jsonpath={.metadata.uid}").stdout
    kubectl("delete", "pod", "-n", "kube-system", name)

    def new_uid():
        cp = kubectl("get", "pod", "-n", "kube-system", name, "-o", "jsonpath={.metadata.uid}", check=False)
        return cp.returncode == 0 and cp.stdout not in ("", before)
    _wait("the mirror pod created anew", new_uid, srv)


def test_its_node_agent_joined_as_a_joining_node_does(up):
    """`up`'s own node agent takes `pocketkube join`'s path: a bootstrap token, a client certificate
    for system:node:<node> through an auto-approved CSR, a kubelet-serving certificate the same way,
    which the API server verifies (--kubelet-certificate-authority) on its way to the node."""
    srv, node, kubectl = up

    def csrs() -> dict:
        items = json.loads(kubectl("get", "csr", "-o", "json").stdout)["items"]
        by_signer = {x["spec"]["signerName"]: x for x in items if (x.get("status") or {}).get("certificate")}
        return by_signer if {"kubernetes.io/kube-apiserver-client-kubelet",
                             "kubernetes.io/kubelet-serving"} <= set(by_signer) else None
    issued = _wait("the node's client and serving certificates", csrs, srv)
    client = issued["kubernetes.io/kube-apiserver-client-kubelet"]
    assert client["spec"]["username"].startswith("system:bootstrap:")
    assert [(c["type"], c["reason"]) for c in client["status"]["conditions"]] == [("Approved", "AutoApproved")]
    subject = x509.load_pem_x509_certificate(base64.b64decode(client["status"]["certificate"])).subject
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [f"system:node:{node}"]
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:nodes"]
    serving = issued["kubernetes.io/kubelet-serving"]
    assert serving["spec"]["username"] == f"system:node:{node}"
    kubeconfig = (srv.data_dir / "nodeagent" / "kubelet.kubeconfig").read_text()
    assert f"name: system:node:{node}" in kubeconfig and "client-certificate-data" in kubeconfig
    assert kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/healthz").stdout == "ok"
