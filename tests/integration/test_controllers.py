"""The controller manager against the real API server, with simulated nodes:
replication, cascading deletion, namespaces, endpoints, service accounts and the
root CA, node lifecycle, pod GC, and leader election between two processes."""
from __future__ import annotations

import uuid

import pytest
import yaml

from kubeclient import ApiClient, ApiError
from kubeclient.resources import (CONFIGMAPS, Resource, ENDPOINTS, ENDPOINTSLICES, LEASES, NAMESPACES, NODES, PODS,
                                  REPLICATIONCONTROLLERS, SERVICEACCOUNTS, SERVICES)

from controllers_support import (FAST_FLAGS, ControllersProcess, leading_controllers, poll,
                                      simulated_cluster, wait_leader)


@pytest.fixture(scope="module")
def controllers(server, tmp_path_factory):
    with leading_controllers(server.kubeconfig, tmp_path_factory.mktemp("ctl"), *FAST_FLAGS, name="ctl") as proc:
        yield proc


@pytest.fixture
async def cluster(server, controllers):
    async with simulated_cluster(server.kubeconfig, renew_interval=0.5) as c:
        yield c


def rc_yaml(name: str, replicas: int, tag: str) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"app": name},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"nodeSelector": {"test-tag": tag},
                                       "containers": [{"name": "c", "image": "busybox"}]}}}})


async def _pods(client, ns, selector, active_only=True):
    items = (await client.list(PODS, ns, label_selector=selector)).get("items") or []
    return [p for p in items if not (active_only and p["metadata"].get("deletionTimestamp"))]


async def _count(client, ns, selector, n, bound=False):
    pods = await _pods(client, ns, selector)
    if bound and not all(p["spec"].get("nodeName") for p in pods):
        return False
    return len(pods) == n


async def test_replication_controller_scales_and_cascades(cluster, namespace, kubectl):
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    await sim.add(f"rc-a-{tag}", labels={"test-tag": tag})
    await sim.add(f"rc-b-{tag}", labels={"test-tag": tag})
    kubectl("create", "-n", namespace, "-f", "-", input=rc_yaml("web", 3, tag))
    await poll(lambda: _count(client, namespace, "app=web", 3, bound=True), what="3 bound pods")
    pods = await _pods(client, namespace, "app=web")
    rc = await client.get(REPLICATIONCONTROLLERS, "web", namespace)
    for p in pods:
        ref = p["metadata"]["ownerReferences"][0]
        assert ref["uid"] == rc["metadata"]["uid"] and ref["controller"] is True
        assert p["metadata"]["generateName"] == "web-"
        await sim.run_pod(namespace, p["metadata"]["name"])

    async def status_ready():
        st = (await client.get(REPLICATIONCONTROLLERS, "web", namespace)).get("status") or {}
        return st.get("readyReplicas") == 3 and st.get("availableReplicas") == 3 and st.get("replicas") == 3 \
            and st.get("observedGeneration") == rc["metadata"].get("generation", 1)
    await poll(status_ready, what="rc status to count 3 ready replicas")

    kubectl("scale", "rc", "web", "-n", namespace, "--replicas=5")
    await poll(lambda: _count(client, namespace, "app=web", 5), what="scale up to 5")
    kubectl("scale", "rc", "web", "-n", namespace, "--replicas=2")
    await poll(lambda: _count(client, namespace, "app=web", 2), what="scale down to 2")
    # the least useful pods went first: the two left are ready ones
    left = await _pods(client, namespace, "app=web")
    assert all(any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])
               for p in left)

    # orphan: the RC goes, its pods stay without owner
    kubectl("delete", "rc", "web", "-n", namespace, "--cascade=orphan")
    await poll(lambda: _gone(client, REPLICATIONCONTROLLERS, "web", namespace), what="rc gone")
    orphans = await poll(lambda: _all_unowned(client, namespace, "app=web", 2), what="pods orphaned")
    assert len(orphans) == 2

    # a new RC adopts them, then background deletion takes them along
    kubectl("create", "-n", namespace, "-f", "-", input=rc_yaml("web", 2, tag))
    rc2 = await client.get(REPLICATIONCONTROLLERS, "web", namespace)

    async def adopted():
        pods = await _pods(client, namespace, "app=web")
        return len(pods) == 2 and all((p["metadata"].get("ownerReferences") or [{}])[0].get("uid") ==
                                      rc2["metadata"]["uid"] for p in pods)
    await poll(adopted, what="orphans adopted by the new rc")
    kubectl("delete", "rc", "web", "-n", namespace, "--cascade=background")
    await poll(lambda: _count(client, namespace, "app=web", 0), what="background cascade")

    # foreground: the RC stays (with the finalizer) until its pods are gone
    kubectl("create", "-n", namespace, "-f", "-", input=rc_yaml("web", 2, tag))
    await poll(lambda: _count(client, namespace, "app=web", 2, bound=True), what="2 pods")
    kubectl("delete", "rc", "web", "-n", namespace, "--cascade=foreground", "--wait=false")
    await poll(lambda: _gone(client, REPLICATIONCONTROLLERS, "web", namespace), what="foreground delete")
    assert await _pods(client, namespace, "app=web", active_only=False) == []


async def _gone(client, res, name, ns=None):
    try:
        await client.get(res, name, ns)
        return False
    except ApiError as e:
        return e.not_found


async def _all_unowned(client, ns, selector, n):
    pods = await _pods(client, ns, selector)
    return pods if len(pods) == n and not any(p["metadata"].get("ownerReferences") for p in pods) else None


async def test_garbage_collector_removes_dependents_of_vanished_owners(cluster, namespace):
    client, _ = cluster
    owner = await client.create(CONFIGMAPS, {"metadata": {"name": "owner"}, "data": {}}, namespace)
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    await client.create(CONFIGMAPS, {"metadata": {"name": "dep", "ownerReferences": [ref]}}, namespace)
    ghost = dict(ref, name="ghost", uid=str(uuid.uuid4()))
    await client.create(CONFIGMAPS, {"metadata": {"name": "half", "ownerReferences": [ref, ghost]}}, namespace)
    await client.create(CONFIGMAPS, {"metadata": {"name": "orphaned", "ownerReferences": [ghost]}}, namespace)
    await poll(lambda: _gone(client, CONFIGMAPS, "orphaned", namespace), what="dependent of a missing owner")

    async def dangling_ref_removed():
        half = await client.get(CONFIGMAPS, "half", namespace)
        return [r["name"] for r in half["metadata"].get("ownerReferences") or []] == ["owner"]
    await poll(dangling_ref_removed, what="the dangling owner reference to be dropped")
    await client.delete(CONFIGMAPS, "owner", namespace)
    await poll(lambda: _gone(client, CONFIGMAPS, "dep", namespace), what="background collection")
    await poll(lambda: _gone(client, CONFIGMAPS, "half", namespace), what="background collection")


async def test_garbage_collector_collects_dependents_of_custom_resources(cluster, namespace, kubectl):
    """A kind served after the collector started (a CRD): found at once, and a ConfigMap
    owned by a custom resource goes with it."""
    client, _ = cluster
    group = f"gc{uuid.uuid4().hex[:6]}.example.com"
    kubectl("create", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"owners.{group}"},
        "spec": {"group": group, "scope": "Namespaced", "names": {"plural": "owners", "kind": "Owner"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}))
    try:
        kubectl("wait", "--for=condition=Established", f"crd/owners.{group}", "--timeout=30s")
        owners = Resource(group, "v1", "owners")
        owner = await client.create(owners, {"apiVersion": f"{group}/v1", "kind": "Owner",
                                             "metadata": {"name": "o"}}, namespace)
        ref = {"apiVersion": f"{group}/v1", "kind": "Owner", "name": "o", "uid": owner["metadata"]["uid"]}
        await client.create(CONFIGMAPS, {"metadata": {"name": "owned", "ownerReferences": [ref]}}, namespace)
        await client.delete(owners, "o", namespace)
        await poll(lambda: _gone(client, CONFIGMAPS, "owned", namespace), what="the custom resource's dependent")
    finally:
        kubectl("delete", "crd", f"owners.{group}", "--wait=false")


async def test_endpoints_and_slices_follow_pods(cluster, namespace):
    client, sim = cluster
    tag = f"t{uuid.uuid4().hex[:6]}"
    node = f"ep-{tag}"
    await sim.add(node, labels={"test-tag": tag})
    await client.create(SERVICES, {"metadata": {"name": "web", "labels": {"team": "a"}}, "spec": {
        "selector": {"app": "ep"}, "ports": [{"name": "http", "port": 80, "targetPort": "web"},
                                             {"name": "metrics", "port": 9090, "targetPort": 9100}]}}, namespace)
    for name in ("p1", "p2"):
        await client.create(PODS, {"metadata": {"name": name, "labels": {"app": "ep"}}, "spec": {
            "nodeName": node, "containers": [{"name": "c", "image": "busybox",
                                              "ports": [{"name": "web", "containerPort": 8080}]}]}}, namespace)
    p1 = await sim.run_pod(namespace, "p1", ready=True)
    p2 = await sim.run_pod(namespace, "p2", ready=False)

    async def endpoints_state():
        try:
            ep = await client.get(ENDPOINTS, "web", namespace)
        except ApiError:
            return None
        subsets = ep.get("subsets") or []
        if len(subsets) != 1:
            return None
        s = subsets[0]
        ready = [a["ip"] for a in s.get("addresses") or []]
        not_ready = [a["ip"] for a in s.get("notReadyAddresses") or []]
        return (ready, not_ready, sorted((p.get("name"), p["port"]) for p in s.get("ports") or []))
    want = ([p1["status"]["podIP"]], [p2["status"]["podIP"]], [("http", 8080), ("metrics", 9100)])
    assert await poll(lambda: _equal(endpoints_state, want), what="endpoints with ready/not-ready") == want

    async def slice_state():
        items = (await client.list(ENDPOINTSLICES, namespace,
                                   label_selector="kubernetes.io/service-name=web")).get("items") or []
        if len(items) != 1:
            return None
        sl = items[0]
        assert sl["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == \
            "endpointslice-controller.k8s.io"
        return sorted((e["addresses"][0], e["conditions"]["ready"]) for e in sl.get("endpoints") or [])
    want_slice = sorted([(p1["status"]["podIP"], True), (p2["status"]["podIP"], False)])
    await poll(lambda: _equal(slice_state, want_slice), what="endpointslice")

    await client.delete(PODS, "p1", namespace)  # the simulated node confirms the deletion
    want = ([], [p2["status"]["podIP"]], [("http", 8080), ("metrics", 9100)])
    await poll(lambda: _equal(endpoints_state, want), what="endpoints without the deleted pod")
    await poll(lambda: _equal(slice_state, [(p2["status"]["podIP"], False)]), what="slice without it")


async def test_pods_with_hostname_and_subdomain_get_named_endpoints(cluster, namespace):
    """spec.hostname + spec.subdomain naming a headless Service: the endpoint carries the
    hostname, which the cluster DNS serves as <hostname>.<service>.<ns>.svc."""
    client, sim = cluster
    node = f"hn-{uuid.uuid4().hex[:6]}"
    await sim.add(node)
    await client.create(SERVICES, {"metadata": {"name": "db"}, "spec": {
        "clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]}}, namespace)
    for name, sub in (("named", "db"), ("other", "elsewhere")):
        await client.create(PODS, {"metadata": {"name": name, "labels": {"app": "db"}}, "spec": {
            "nodeName": node, "hostname": f"{name}-host", "subdomain": sub,
            "containers": [{"name": "c", "image": "busybox"}]}}, namespace)
    ips = {name: (await sim.run_pod(namespace, name, ready=True))["status"]["podIP"] for name in ("named", "other")}
    want = sorted([(ips["named"], "named-host"), (ips["other"], None)])

    async def slice_hosts():
        items = (await client.list(ENDPOINTSLICES, namespace,
                                   label_selector="kubernetes.io/service-name=db")).get("items") or []
        return sorted((e["addresses"][0], e.get("hostname")) for sl in items for e in sl.get("endpoints") or [])

    async def endpoints_hosts():
        try:
            ep = await client.get(ENDPOINTS, "db", namespace)
        except ApiError:
            return None
        return sorted((a["ip"], a.get("hostname")) for s in ep.get("subsets") or [] for a in s.get("addresses") or [])
    await poll(lambda: _equal(slice_hosts, want), what="slice endpoints with hostnames")
    await poll(lambda: _equal(endpoints_hosts, want), what="endpoints addresses with hostnames")


async def _equal(fn, want):
    got = await fn()
    return got if got == want else None


async def test_service_account_and_root_ca_are_published_and_repaired(cluster, namespace, server):
    client, _ = cluster
    ca = server.ca_file.read_text()
    await poll(lambda: _exists(client, SERVICEACCOUNTS, "default", namespace), what="default service account")
    cm = await poll(lambda: _exists(client, CONFIGMAPS, "kube-root-ca.crt", namespace), what="root CA")
    assert cm["data"]["ca.crt"].strip() == ca.strip()
    await client.delete(SERVICEACCOUNTS, "default", namespace)
    await client.delete(CONFIGMAPS, "kube-root-ca.crt", namespace)
    await poll(lambda: _exists(client, SERVICEACCOUNTS, "default", namespace), what="service account recreated")
    cm = await poll(lambda: _exists(client, CONFIGMAPS, "kube-root-ca.crt", namespace), what="CA recreated")
    cm["data"] = {"ca.crt": "tampered"}
    await client.update(CONFIGMAPS, cm, namespace)

    async def restored():
        got = await client.get(CONFIGMAPS, "kube-root-ca.crt", namespace)
        return got["data"].get("ca.crt", "").strip() == ca.strip()
    await poll(restored, what="CA restored")


async def _exists(client, res, name, ns=None):
    try:
        return await client.get(res, name, ns)
    except ApiError as e:
        if e.not_found:
            return None
        raise


async def test_deleting_a_namespace_removes_everything_in_it(cluster, controllers):
    client, _ = cluster
    ns = f"doomed-{uuid.uuid4().hex[:6]}"
    await client.create(NAMESPACES, {"metadata": {"name": ns}})
    await client.create(CONFIGMAPS, {"metadata": {"name": "c"}, "data": {"a": "b"}}, ns)
    await client.create(SERVICES, {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}, ns)
    await client.create(PODS, {"metadata": {"name": "p"}, "spec": {
        "schedulerName": "nobody", "containers": [{"name": "c", "image": "busybox"}]}}, ns)
    await client.create(LEASES, {"metadata": {"name": "l"}, "spec": {}}, ns)
    await client.delete(NAMESPACES, ns)
    try:
        await poll(lambda: _gone(client, NAMESPACES, ns), timeout=60, what="namespace to disappear")
    except AssertionError as e:
        # what the namespace controller says is left, and what it logged
        left = (await client.get(NAMESPACES, ns)).get("status")
        raise AssertionError(f"{e}\nstatus: {left}\ncontrollers:\n{controllers.log(40)}") from None
    for res in (CONFIGMAPS, SERVICES, PODS, LEASES):
        assert (await client.list(res, ns)).get("items") == [], res.plural


async def test_node_without_lease_is_tainted_its_pods_evicted_and_untainted_on_return(cluster, namespace):
    client, sim = cluster
    node = f"flaky-{uuid.uuid4().hex[:6]}"
    await sim.add(node)
    await client.create(PODS, {"metadata": {"name": "victim"}, "spec": {
        "nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
        "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 1}]}}, namespace)
    await client.create(PODS, {"metadata": {"name": "stays"}, "spec": {
        "nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
        "tolerations": [{"operator": "Exists"}]}}, namespace)
    sim.stop_agent(node)

    async def tainted():
        n = await client.get(NODES, node)
        keys = {(t["key"], t["effect"]) for t in n["spec"].get("taints") or []}
        ready = [c for c in n["status"]["conditions"] if c["type"] == "Ready"][0]
        return ready["status"] == "Unknown" and {("node.kubernetes.io/unreachable", "NoSchedule"),
                                                 ("node.kubernetes.io/unreachable", "NoExecute")} <= keys
    await poll(tainted, timeout=40, what="node to go Unknown and be tainted")

    async def evicted():
        pod = await _exists(client, PODS, "victim", namespace)
        return pod is None or pod["metadata"].get("deletionTimestamp")
    await poll(evicted, timeout=30, what="the pod to be evicted")
    stays = await client.get(PODS, "stays", namespace)
    assert not stays["metadata"].get("deletionTimestamp")

    await sim.start_agent(node)

    async def untainted():
        n = await client.get(NODES, node)
        return not any(t["key"].startswith("node.kubernetes.io/") for t in n["spec"].get("taints") or [])
    await poll(untainted, timeout=40, what="node to be untainted")


async def test_pod_gc_removes_pods_bound_to_missing_nodes(cluster, namespace):
    client, _ = cluster
    await client.create(PODS, {"metadata": {"name": "lost"}, "spec": {
        "nodeName": f"no-such-node-{uuid.uuid4().hex[:6]}", "containers": [{"name": "c", "image": "busybox"}]}},
        namespace)
    await poll(lambda: _gone(client, PODS, "lost", namespace), timeout=30, what="pod GC")


def test_two_controller_processes_elect_one_leader_and_fail_over(server, tmp_path, controllers):
    lease = f"failover-{uuid.uuid4().hex[:6]}"
    flags = ["--controllers=serviceaccount", "--leader-elect-resource-name", lease,
             "--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s",
             "--leader-elect-retry-period", "250ms"]
    a = ControllersProcess(server.kubeconfig, tmp_path, "--identity", "a", *flags, name="a")
    b = ControllersProcess(server.kubeconfig, tmp_path, "--identity", "b", *flags, name="b")
    procs = {"a": a, "b": b}
    try:
        first = _wait_any_leader(server.kubeconfig, lease, {"a", "b"})
        procs[first].kill()  # no clean release: the other must wait out the lease
        other = "b" if first == "a" else "a"
        assert wait_leader(server.kubeconfig, other, lease, timeout=30) == other
    finally:
        a.stop()
        b.stop()


def _wait_any_leader(kubeconfig, lease, identities):
    import asyncio

    async def go():
        async with ApiClient.from_kubeconfig(str(kubeconfig)) as c:
            async def check():
                try:
                    h = (await c.get(LEASES, lease, "kube-system"))["spec"].get("holderIdentity")
                except ApiError:
                    return None
                return h if h in identities else None
            return await poll(check, 30, 0.1, "a leader")
    return asyncio.run(go())


async def test_hpa_on_custom_metrics_says_the_metrics_api_is_not_served(cluster, namespace, kubectl):
    """Pods and Object metrics need custom.metrics.k8s.io, which nothing serves here: the
    HPA says so in its ScalingActive condition (upstream's reason) and leaves the scale."""
    client, _ = cluster
    hpas = Resource("autoscaling", "v2", "horizontalpodautoscalers")
    kubectl("apply", "-n", namespace, "-f", "-", input=rc_yaml("custom", 1, "nowhere"))
    for kind, metric in (("Pods", {"type": "Pods", "pods": {
                              "metric": {"name": "requests_per_second"},
                              "target": {"type": "AverageValue", "averageValue": "10"}}}),
                         ("Object", {"type": "Object", "object": {
                              "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "web"},
                              "metric": {"name": "hits"}, "target": {"type": "Value", "value": "100"}}})):
        name = f"on-{kind.lower()}"
        await client.create(hpas, {
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
            "spec": {"scaleTargetRef": {"apiVersion": "v1", "kind": "ReplicationController", "name": "custom"},
                     "minReplicas": 1, "maxReplicas": 3, "metrics": [metric]}}, namespace)

        async def reported(name=name):
            hpa = await client.get(hpas, name, namespace)
            conds = {c["type"]: c for c in (hpa.get("status") or {}).get("conditions") or []}
            return conds.get("ScalingActive")
        active = await poll(reported, what=f"the {kind} HPA's ScalingActive condition")
        assert active["status"] == "False" and active["reason"] == f"FailedGet{kind}Metric", active
        assert "custom.metrics.k8s.io" in active["message"]
    rc = await client.get(REPLICATIONCONTROLLERS, "custom", namespace)
    assert rc["spec"]["replicas"] == 1
