"""`pocketkube nodeagent --simulate N` against the real API server, seen through kubectl:
the nodes register Ready, a Deployment's pods (tolerating the simulated-node taint)
run on them with IPs from each node's pod CIDR, and deletions are honoured at once."""
from __future__ import annotations

import contextlib
import ipaddress
import json
import uuid

import pytest

from controllers_support import ControllersProcess, leading_controllers, poll

SIM_LABEL = "node.pocketkube.io/simulated"


@pytest.fixture(scope="module")
def controllers(server, tmp_path_factory):
    with leading_controllers(server.kubeconfig, tmp_path_factory.mktemp("simctl"),
                             "--controllers=scheduler,replicaset,deployment,garbagecollector",
                             name="sim-controllers") as proc:
        yield proc


@pytest.fixture(scope="module")
def sim_nodes(server, kubectl, tmp_path_factory):
    """Three simulated nodes, tainted so that only this module's pods land there; removed afterwards."""
    tag = f"sim{uuid.uuid4().hex[:6]}"
    proc = ControllersProcess(server.kubeconfig, tmp_path_factory.mktemp("simnodes"), "--simulate", "3",
                              "--simulate-prefix", f"{tag}-", "--simulate-taint", "--node-labels", f"test-tag={tag}",
                              name="simulated-nodes", subcommand="nodeagent")
    try:
        yield tag, proc
    finally:
        proc.stop()
        kubectl("delete", "nodes", "-l", f"test-tag={tag}", "--wait=false", check=False)


def _json(kubectl, *args) -> dict:
    return json.loads(kubectl(*args, "-o", "json").stdout)


def deployment(name: str, tag: str, replicas: int) -> str:
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {
                     "nodeSelector": {"test-tag": tag},
                     "tolerations": [{"key": SIM_LABEL, "operator": "Exists", "effect": "NoSchedule"}],
                     "containers": [{"name": "c", "image": "busybox",
                                     "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}}}]}}}})


async def test_simulated_nodes_register_ready_with_label_taint_and_pod_cidr(sim_nodes, kubectl):
    tag, proc = sim_nodes

    def ready_nodes():
        assert proc.proc.poll() is None, proc.log()
        items = _json(kubectl, "get", "nodes", "-l", f"test-tag={tag}")["items"]
        return items if len(items) == 3 and all(
            any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions") or [])
            for n in items) else None
    nodes = await poll(ready_nodes, timeout=60, interval=0.3, what="3 simulated nodes Ready")
    assert sorted(n["metadata"]["name"] for n in nodes) == [f"{tag}-0", f"{tag}-1", f"{tag}-2"]
    for n in nodes:
        assert n["metadata"]["labels"][SIM_LABEL] == "true"
        assert {"key": SIM_LABEL, "value": "true", "effect": "NoSchedule"} in n["spec"]["taints"]
        ipaddress.ip_network(n["spec"]["podCIDR"])
    listed = kubectl("get", "nodes", "-l", f"test-tag={tag}").stdout
    assert listed.count(" Ready ") == 3, listed
    leases = _json(kubectl, "get", "leases", "-n", "kube-node-lease")["items"]
    assert {f"{tag}-{i}" for i in range(3)} <= {x["metadata"]["name"] for x in leases}


async def test_deployment_pods_run_on_simulated_nodes_and_deletion_is_honoured(sim_nodes, controllers, kubectl,
                                                                               namespace):
    tag, proc = sim_nodes
    kubectl("apply", "-n", namespace, "-f", "-", input=deployment("web", tag, 6))
    cidrs = {n["metadata"]["name"]: ipaddress.ip_network(n["spec"]["podCIDR"])
             for n in (await poll(lambda: _json(kubectl, "get", "nodes", "-l", f"test-tag={tag}")["items"],
                                  what="the simulated nodes"))}

    def running():
        pods = _json(kubectl, "get", "pods", "-n", namespace, "-l", "app=web")["items"]
        return pods if len(pods) == 6 and all(p["status"].get("phase") == "Running" for p in pods) else None
    pods = await poll(running, timeout=60, interval=0.3, what="6 pods Running")
    for p in pods:
        assert p["spec"]["nodeName"] in cidrs
        assert ipaddress.ip_address(p["status"]["podIP"]) in cidrs[p["spec"]["nodeName"]]
        assert {c["type"]: c["status"] for c in p["status"]["conditions"]}["Ready"] == "True"
    assert len({p["status"]["podIP"] for p in pods}) == 6
    kubectl("rollout", "status", "-n", namespace, "deployment/web", "--timeout=60s")
    printed = kubectl("get", "pods", "-n", namespace, "-l", "app=web").stdout
    assert printed.count("1/1     Running") == 6, printed

    # a pod deleted with the default grace period is gone at once: its node confirms it
    victim = pods[0]["metadata"]["name"]
    kubectl("delete", "pod", "-n", namespace, victim, "--timeout=30s")
    assert victim not in kubectl("get", "pods", "-n", namespace, "-o", "name").stdout
    kubectl("delete", "deployment", "-n", namespace, "web")
    await poll(lambda: not _json(kubectl, "get", "pods", "-n", namespace, "-l", "app=web")["items"],
               timeout=60, interval=0.3, what="every pod gone")
    assert proc.proc.poll() is None, proc.log()


async def test_a_simulated_node_creates_its_lease_or_renews_the_one_it_finds(server):
    """A node met for the first time creates its Lease at once; one whose Lease is there
    already (its agent restarted) renews that Lease rather than failing or replacing it."""
    from kubeclient import ApiClient, ApiError
    from kubeclient.resources import LEASES, NODES
    from nodeagent.simulated import LEASE_NS, SimulatedNodes

    tag = f"simlease{uuid.uuid4().hex[:6]}"
    fresh, known = f"{tag}-fresh", f"{tag}-known"
    async with ApiClient.from_kubeconfig(str(server.kubeconfig)) as client:
        old = await client.create(LEASES, {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": known, "namespace": LEASE_NS},
            "spec": {"holderIdentity": known, "leaseDurationSeconds": 40,
                     "renewTime": "2020-01-01T00:00:00.000000Z"}}, LEASE_NS)
        sim = SimulatedNodes(client)
        try:
            await sim.add(fresh)
            await sim.add(known)
            made = await client.get(LEASES, fresh, LEASE_NS)
            assert made["spec"]["holderIdentity"] == fresh
            renewed = await client.get(LEASES, known, LEASE_NS)
            assert renewed["metadata"]["uid"] == old["metadata"]["uid"]
            assert renewed["spec"]["renewTime"] > "2020-01-01T00:00:00.000000Z"
        finally:
            await sim.stop()
            for name in (fresh, known):
                for res, ns in ((NODES, None), (LEASES, LEASE_NS)):
                    with contextlib.suppress(ApiError):
                        await client.delete(res, name, ns)
