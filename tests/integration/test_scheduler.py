"""The scheduler against the real API server, with simulated nodes (no pod runs)."""
from __future__ import annotations

import re
import uuid

import pytest

from kubeclient.resources import EVENTS, PODS

from controllers_support import leading_controllers, poll, simulated_cluster


@pytest.fixture(scope="module")
def scheduler(server, tmp_path_factory):
    with leading_controllers(server.kubeconfig, tmp_path_factory.mktemp("sched"), "--controllers=scheduler,disruption",
                             "--leader-elect-retry-period", "500ms", name="scheduler") as proc:
        yield proc


@pytest.fixture
async def cluster(server, scheduler):
    async with simulated_cluster(server.kubeconfig, renew_interval=1.0) as c:
        yield c


def pod_body(name: str, cpu: str = "100m", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                                     "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}], **spec}}


async def test_pod_that_fits_is_bound_and_one_that_does_not_is_reported(cluster, namespace, kubectl):
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    await sim.add(f"small-{tag}", cpu="1", labels={"test-tag": tag})
    await client.create(PODS, pod_body("fits", "500m", nodeSelector={"test-tag": tag}), namespace)
    await client.create(PODS, pod_body("huge", "64", nodeSelector={"test-tag": tag}), namespace)

    bound = await poll(lambda: _node_of(client, namespace, "fits"), what="fits to be bound")
    assert bound == f"small-{tag}"
    events = await poll(lambda: _events(client, namespace, "fits", "Scheduled"), what="Scheduled event")
    assert events[0]["message"] == f"Successfully assigned {namespace}/fits to small-{tag}"
    assert events[0]["source"]["component"] == "default-scheduler"

    huge = await poll(lambda: _unschedulable(client, namespace, "huge"), what="huge to be Unschedulable")
    assert re.fullmatch(r"0/\d+ nodes are available: .*\. preemption: 0/\d+ nodes are available: .*\.\.",
                        huge["message"]), huge["message"]
    assert "1 Insufficient cpu" in huge["message"]
    described = kubectl("describe", "pod", "huge", "-n", namespace).stdout
    assert "FailedScheduling" in described and "Insufficient cpu" in described

    # a node with room appears: the pending pod is retried without waiting out its back-off
    await sim.add(f"big-{tag}", cpu="100", labels={"test-tag": tag})
    assert await poll(lambda: _node_of(client, namespace, "huge"), what="huge to be bound") == f"big-{tag}"


async def test_taints_selectors_affinity_and_resources_steer_pods(cluster, namespace):
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    await sim.add(f"tainted-{tag}", labels={"test-tag": tag, "disk": "ssd"},
                  taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
    await sim.add(f"plain-{tag}", labels={"test-tag": tag, "disk": "hdd"})
    sel = {"test-tag": tag}
    await client.create(PODS, pod_body("any", nodeSelector=sel), namespace)
    await client.create(PODS, pod_body("tolerant", nodeSelector={**sel, "disk": "ssd"}, tolerations=[
        {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]), namespace)
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["hdd"]},
                              {"key": "test-tag", "operator": "In", "values": [tag]}]}]}}}
    await client.create(PODS, pod_body("ssd-only", affinity=affinity), namespace)

    assert await poll(lambda: _node_of(client, namespace, "any")) == f"plain-{tag}"
    assert await poll(lambda: _node_of(client, namespace, "tolerant")) == f"tainted-{tag}"
    cond = await poll(lambda: _unschedulable(client, namespace, "ssd-only"))
    assert "node(s) had untolerated taint {dedicated: db}" in cond["message"]
    assert "node(s) didn't match Pod's node affinity/selector" in cond["message"]


async def test_host_ports_and_pod_count(cluster, namespace):
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    await sim.add(f"one-{tag}", pods="2", labels={"test-tag": tag})
    port_pod = pod_body("p1", nodeSelector={"test-tag": tag})
    port_pod["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    await client.create(PODS, port_pod, namespace)
    await poll(lambda: _node_of(client, namespace, "p1"))
    port_pod["metadata"]["name"] = "p2"
    await client.create(PODS, port_pod, namespace)
    cond = await poll(lambda: _unschedulable(client, namespace, "p2"))
    assert "didn't have free ports for the requested pod ports" in cond["message"]
    await client.create(PODS, pod_body("p3", nodeSelector={"test-tag": tag}), namespace)
    await poll(lambda: _node_of(client, namespace, "p3"))
    await client.create(PODS, pod_body("p4", nodeSelector={"test-tag": tag}), namespace)
    cond = await poll(lambda: _unschedulable(client, namespace, "p4"))
    assert "Too many pods" in cond["message"] or "free ports" in cond["message"]


async def _node_of(client, ns, name):
    return (await client.get(PODS, name, ns))["spec"].get("nodeName")


async def _unschedulable(client, ns, name):
    pod = await client.get(PODS, name, ns)
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c["type"] == "PodScheduled" and c["status"] == "False" and c.get("reason") == "Unschedulable":
            return c
    return None


async def _events(client, ns, name, reason):
    items = (await client.list(EVENTS, ns)).get("items") or []
    return [e for e in items if e["involvedObject"].get("name") == name and e["reason"] == reason]


async def test_pod_anti_affinity_and_topology_spread(cluster, namespace):
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    for i in (1, 2):
        await sim.add(f"spread-{i}-{tag}", labels={"test-tag": tag, "zone": f"z{i}"})
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": f"one-per-node-{tag}"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    for i in range(3):
        body = pod_body(f"solo-{i}", nodeSelector={"test-tag": tag}, affinity=anti)
        body["metadata"]["labels"] = {"app": f"one-per-node-{tag}"}
        await client.create(PODS, body, namespace)
    placed = []
    for i in range(3):
        async def state(i=i):
            return await _node_of(client, namespace, f"solo-{i}") or await _unschedulable(
                client, namespace, f"solo-{i}")
        placed.append(await poll(state, what=f"solo-{i} decided"))
    nodes = [p for p in placed if isinstance(p, str)]
    refused = [p for p in placed if isinstance(p, dict)]
    assert len(set(nodes)) == 2 and len(refused) == 1
    assert "node(s) didn't match pod anti-affinity rules" in refused[0]["message"]

    spread = {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
              "labelSelector": {"matchLabels": {"app": f"even-{tag}"}}}
    for i in range(4):
        body = pod_body(f"even-{i}", nodeSelector={"test-tag": tag}, topologySpreadConstraints=[spread])
        body["metadata"]["labels"] = {"app": f"even-{tag}"}
        await client.create(PODS, body, namespace)
    zones = [await poll(lambda i=i: _node_of(client, namespace, f"even-{i}")) for i in range(4)]
    assert sorted(zones) == sorted([f"spread-1-{tag}"] * 2 + [f"spread-2-{tag}"] * 2)


async def test_high_priority_pod_preempts_a_lower_one(cluster, namespace, api_client):
    from kubernetes import client as k8s
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    sched = k8s.SchedulingV1Api(api_client)
    classes = ((f"low-{tag}", 10, "PreemptLowerPriority"), (f"high-{tag}", 1000, "PreemptLowerPriority"),
               (f"polite-{tag}", 1000, "Never"))
    for name, value, policy in classes:
        sched.create_priority_class({"metadata": {"name": name}, "value": value, "preemptionPolicy": policy})
    try:
        await sim.add(f"full-{tag}", cpu="1", labels={"test-tag": tag})
        sel = {"test-tag": tag}
        await client.create(PODS, pod_body("low", "800m", nodeSelector=sel, priorityClassName=f"low-{tag}"), namespace)
        assert await poll(lambda: _node_of(client, namespace, "low"), what="low bound") == f"full-{tag}"
        await client.create(PODS, pod_body("never", "800m", nodeSelector=sel, priorityClassName=f"polite-{tag}"),
                            namespace)
        await client.create(PODS, pod_body("high", "800m", nodeSelector=sel, priorityClassName=f"high-{tag}"),
                            namespace)
        assert await poll(lambda: _node_of(client, namespace, "high"), what="high bound") == f"full-{tag}"
        preempted = await poll(lambda: _events(client, namespace, "low", "Preempted"), what="Preempted event")
        high = await client.get(PODS, "high", namespace)
        assert preempted[0]["message"] == f"Preempted by pod {high['metadata']['uid']} on node full-{tag}"
        assert high["status"].get("nominatedNodeName") == f"full-{tag}"
        never = await poll(lambda: _unschedulable(client, namespace, "never"), what="never stays pending")
        assert "1 Insufficient cpu" in never["message"]
    finally:
        for name, _value, _policy in classes:
            sched.delete_priority_class(name)


async def test_pod_overhead_counts_in_fit_and_in_quota(cluster, namespace, api_client, kubectl):
    """A RuntimeClass's overhead.podFixed (filled in by admission) is part of what the
    pod takes: the scheduler's resource fit and the namespace's quota both count it."""
    import json
    from kubernetes import client as k8s
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    node_api = k8s.NodeV1Api(api_client)
    node_api.create_runtime_class({"metadata": {"name": f"heavy-{tag}"}, "handler": "runc",
                                   "overhead": {"podFixed": {"memory": "256Mi", "cpu": "250m"}}})
    try:
        k8s.CoreV1Api(api_client).create_namespaced_resource_quota(namespace, {
            "metadata": {"name": "mem"}, "spec": {"hard": {"requests.memory": "1Gi", "requests.cpu": "2"}}})
        await sim.add(f"snug-{tag}", cpu="1", memory="512Mi", labels={"test-tag": tag})
        sel = {"test-tag": tag}
        # 192Mi of requests fits the 512Mi node alone, and with 256Mi overhead too: 448Mi
        light = pod_body("light", "100m", nodeSelector=sel, runtimeClassName=f"heavy-{tag}")
        light["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m", "memory": "192Mi"},
                                                        "limits": {"memory": "192Mi"}}
        await client.create(PODS, light, namespace)
        assert await poll(lambda: _node_of(client, namespace, "light"), what="light bound") == f"snug-{tag}"
        # a second one asking 64Mi would fit by its containers' requests (448 + 64 <= 512),
        # not with its overhead (448 + 64 + 256 > 512)
        await client.create(PODS, pod_body("second", "100m", nodeSelector=sel, runtimeClassName=f"heavy-{tag}"),
                            namespace)
        cond = await poll(lambda: _unschedulable(client, namespace, "second"), what="second Unschedulable")
        assert "1 Insufficient memory" in cond["message"], cond["message"]

        quota = json.loads(kubectl("get", "resourcequota", "mem", "-n", namespace, "-o", "json").stdout)
        # each pod: its containers' requests plus 256Mi and 250m of overhead
        assert quota["status"]["used"] == {"requests.memory": "768Mi", "requests.cpu": "700m"}
        described = kubectl("describe", "resourcequota", "mem", "-n", namespace).stdout
        assert re.search(r"requests\.memory\s+768Mi\s+1Gi", described), described
    finally:
        node_api.delete_runtime_class(f"heavy-{tag}")


async def test_preemption_spares_pods_a_budget_protects(cluster, namespace, api_client, kubectl):
    """Two full nodes whose victims are alike; the one whose victim a PodDisruptionBudget
    protects (zero disruptions allowed, as the disruption controller computes) is spared."""
    from kubernetes import client as k8s
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    sched = k8s.SchedulingV1Api(api_client)
    sched.create_priority_class({"metadata": {"name": f"low-{tag}"}, "value": 10})
    sched.create_priority_class({"metadata": {"name": f"high-{tag}"}, "value": 1000})
    try:
        # without the budget, equal victims would be taken from the first node by name: a-...
        for node in (f"a-{tag}", f"b-{tag}"):
            await sim.add(node, cpu="1", labels={"test-tag": tag})
        for name, node in (("guarded", f"a-{tag}"), ("loose", f"b-{tag}")):
            body = pod_body(name, "800m", nodeSelector={"kubernetes.io/hostname": node},
                            priorityClassName=f"low-{tag}")
            body["metadata"]["labels"] = {"app": name}
            await client.create(PODS, body, namespace)
            await poll(lambda name=name: _node_of(client, namespace, name), what=f"{name} bound")
            await sim.run_pod(namespace, name)
        kubectl("create", "pdb", "guard", "-n", namespace, "--selector=app=guarded", "--min-available=1")
        pdbs = k8s.PolicyV1Api(api_client)

        def counted():
            status = pdbs.read_namespaced_pod_disruption_budget("guard", namespace).status
            return status if status.current_healthy == 1 else None
        status = await poll(counted, what="budget status")
        assert status.disruptions_allowed == 0

        await client.create(PODS, pod_body("urgent", "800m", nodeSelector={"test-tag": tag},
                                           priorityClassName=f"high-{tag}"), namespace)
        assert await poll(lambda: _node_of(client, namespace, "urgent"), what="urgent bound") == f"b-{tag}"
        urgent = await client.get(PODS, "urgent", namespace)
        assert urgent["status"].get("nominatedNodeName") == f"b-{tag}"
        preempted = await poll(lambda: _events(client, namespace, "loose", "Preempted"), what="Preempted event")
        assert preempted[0]["message"] == f"Preempted by pod {urgent['metadata']['uid']} on node b-{tag}"
        guarded = await client.get(PODS, "guarded", namespace)
        assert not guarded["metadata"].get("deletionTimestamp")
    finally:
        for name in (f"low-{tag}", f"high-{tag}"):
            sched.delete_priority_class(name)


async def test_pod_is_bound_only_once_its_wait_for_first_consumer_claim_is(cluster, namespace, api_client):
    """PreBind: the scheduler gives the claim its node, then waits for the claim to be
    bound (here by hand, as the PV binder or a provisioner would) before binding the pod."""
    from kubernetes import client as k8s
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    core, storage = k8s.CoreV1Api(api_client), k8s.StorageV1Api(api_client)
    storage.create_storage_class({"metadata": {"name": f"late-{tag}"}, "provisioner": "example.com/late",
                                  "volumeBindingMode": "WaitForFirstConsumer"})
    try:
        node = f"disk-{tag}"
        await sim.add(node, labels={"test-tag": tag})
        core.create_namespaced_persistent_volume_claim(namespace, {"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": f"late-{tag}",
            "resources": {"requests": {"storage": "1Gi"}}}})
        body = pod_body("user", nodeSelector={"test-tag": tag})
        body["spec"]["volumes"] = [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]
        await client.create(PODS, body, namespace)

        def selected():
            ann = core.read_namespaced_persistent_volume_claim("data", namespace).metadata.annotations or {}
            return ann.get("volume.kubernetes.io/selected-node")
        assert await poll(selected, what="selected-node on the claim") == node
        # what the binder would do: a volume for the claim, bound both ways
        core.create_persistent_volume({"metadata": {"name": f"pv-{tag}"}, "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": f"late-{tag}",
            "hostPath": {"path": f"/tmp/pv-{tag}"},
            "claimRef": {"namespace": namespace, "name": "data"}}})
        claim = core.read_namespaced_persistent_volume_claim("data", namespace)
        assert (await client.get(PODS, "user", namespace))["spec"].get("nodeName") is None  # still waiting
        claim.spec.volume_name = f"pv-{tag}"
        claim = core.replace_namespaced_persistent_volume_claim("data", namespace, claim)
        assert (await client.get(PODS, "user", namespace))["spec"].get("nodeName") is None  # not Bound yet
        claim.status.phase = "Bound"
        core.replace_namespaced_persistent_volume_claim_status("data", namespace, claim)
        assert await poll(lambda: _node_of(client, namespace, "user"), what="user bound") == node
    finally:
        storage.delete_storage_class(f"late-{tag}")
        core.delete_persistent_volume(f"pv-{tag}")
