"""The scheduler and the controllers with real node agents (issue 7, the e2e half).

One API server, one `pocketkube controllers` (node lifecycle intervals
shortened by its flags) and two `pocketkube nodeagent`s, each its own process;
both agents share this machine's Podman and tell their pods apart by the
`io.pocketkube.node` label. The tests run in file order: the last one kills a
node agent. Every Podman pod of both nodes is removed at the end, even on failure.
"""
from __future__ import annotations

import json
import signal
import uuid

import pytest
import yaml

from tests.e2e.conftest import IMAGE, NODE_LABEL, fresh_namespace, run_podman, running_cluster

pytestmark = pytest.mark.podman

# As upstream, the API server's DefaultTolerationSeconds admission gives every pod
# its unreachable/not-ready toleration; the eviction delay is shortened there.
SERVER_FLAGS = ["--default-not-ready-toleration-seconds", "2", "--default-unreachable-toleration-seconds", "2"]
# The agents renew their Lease every 10 s, so the grace period must exceed that.
CONTROLLER_FLAGS = ["--node-monitor-grace-period", "15s", "--node-monitor-period", "1s",
                    "--default-unreachable-toleration-seconds", "2", "--pod-gc-period", "2s",
                    "--leader-elect-retry-period", "500ms"]


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    tag = uuid.uuid4().hex[:6]
    with running_cluster(tmp_path_factory.mktemp("e2e-cluster"), [f"e2e-{tag}-a", f"e2e-{tag}-b"],
                         server_args=SERVER_FLAGS, controller_args=CONTROLLER_FLAGS) as c:
        yield c


@pytest.fixture
def ns(two_nodes):
    with fresh_namespace(two_nodes, "c") as name:
        yield name


def rc_manifest(name: str, replicas: int, *, readiness: bool = False) -> str:
    container = {"name": "main", "image": IMAGE, "command": ["sleep", "3600"],
                 "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}}}
    if readiness:
        container["readinessProbe"] = {"exec": {"command": ["true"]}, "periodSeconds": 1}
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"app": name},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]}}}})


def running(pods: list[dict]) -> list[dict]:
    """Pods not being deleted whose phase is Running."""
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")
            and (p.get("status") or {}).get("phase") == "Running"]


def podman_pods_of(ns: str) -> list[str]:
    return run_podman("pod", "ps", "-q", "--filter", f"label=io.pocketkube.pod.namespace={ns}").stdout.split()


def test_rc_spreads_over_both_nodes_scales_and_cascades(two_nodes, ns):
    c = two_nodes
    c.kubectl("create", "-n", ns, "-f", "-", input=rc_manifest("web", 3))
    c.wait_for("3 Running pods", lambda: len(running(c.pods(ns, "app=web"))) == 3 and len(c.pods(ns, "app=web")) == 3)
    wide = c.kubectl("get", "pods", "-n", ns, "-o", "wide").stdout
    assert all(n in wide for n in c.nodes), wide
    assert {p["spec"]["nodeName"] for p in c.pods(ns, "app=web")} == set(c.nodes)

    c.kubectl("scale", "rc", "web", "-n", ns, "--replicas=5")
    c.wait_for("5 Running pods", lambda: len(running(c.pods(ns, "app=web"))) == 5)
    c.kubectl("scale", "rc", "web", "-n", ns, "--replicas=1")
    c.wait_for("1 pod left", lambda: len(c.pods(ns, "app=web")) == 1 and len(running(c.pods(ns, "app=web"))) == 1)
    c.wait_for("the scaled-down pods' containers gone", lambda: len(podman_pods_of(ns)) == 1)
    c.wait_for("rc status at 1 replica", lambda: (lambda st: (st.get("replicas"), st.get("readyReplicas")) == (1, 1))(
        c.get("rc", "web", "-n", ns)["status"]))

    c.kubectl("delete", "rc", "web", "-n", ns, "--cascade=background")
    c.wait_for("the rc's pods deleted", lambda: c.pods(ns, "app=web") == [])
    c.wait_for("their containers removed", lambda: podman_pods_of(ns) == [])


def test_rc_delete_orphan_then_adopt_then_foreground(two_nodes, ns):
    c = two_nodes
    c.kubectl("create", "-n", ns, "-f", "-", input=rc_manifest("keep", 2))
    c.wait_for("2 Running pods", lambda: len(running(c.pods(ns, "app=keep"))) == 2)
    names = {p["metadata"]["name"] for p in c.pods(ns, "app=keep")}

    c.kubectl("delete", "rc", "keep", "-n", ns, "--cascade=orphan")
    assert c.kubectl("get", "rc", "keep", "-n", ns, check=False).returncode != 0
    c.wait_for("ownerReferences removed", lambda: all(
        not p["metadata"].get("ownerReferences") for p in c.pods(ns, "app=keep")))
    assert {p["metadata"]["name"] for p in running(c.pods(ns, "app=keep"))} == names

    # a new RC with the same selector adopts the orphans instead of starting new pods
    c.kubectl("create", "-n", ns, "-f", "-", input=rc_manifest("keep", 2))
    uid = c.get("rc", "keep", "-n", ns)["metadata"]["uid"]
    c.wait_for("orphans adopted", lambda: all(
        [r["uid"] for r in p["metadata"].get("ownerReferences") or []] == [uid] for p in c.pods(ns, "app=keep")))
    assert {p["metadata"]["name"] for p in c.pods(ns, "app=keep")} == names

    # foreground: the RC stays (with the foregroundDeletion finalizer) until its pods are gone
    c.kubectl("delete", "rc", "keep", "-n", ns, "--cascade=foreground", "--wait=false")

    def owner_outlives_pods():
        cp = c.kubectl("get", "rc", "keep", "-n", ns, "-o", "json", check=False)
        pods = c.pods(ns, "app=keep")
        if cp.returncode != 0:
            if pods:  # pytest.fail, not assert: wait_for retries AssertionErrors
                pytest.fail(f"the RC went before its pods: {[p['metadata']['name'] for p in pods]}")
            return True
        if "foregroundDeletion" not in (json.loads(cp.stdout)["metadata"].get("finalizers") or []):
            pytest.fail(f"RC being deleted without the foregroundDeletion finalizer: {cp.stdout}")
        return False

    c.wait_for("foreground deletion done", owner_outlives_pods)
    c.wait_for("their containers removed", lambda: podman_pods_of(ns) == [])


def test_pod_that_fits_nowhere_stays_pending(two_nodes, ns):
    c = two_nodes
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"},
           "spec": {"containers": [{"name": "main", "image": IMAGE, "command": ["sleep", "3600"],
                                    "resources": {"requests": {"cpu": "1000"}}}]}}
    c.kubectl("create", "-n", ns, "-f", "-", input=yaml.safe_dump(pod))
    want = "0/2 nodes are available: 2 Insufficient cpu."
    described = c.wait_for("the FailedScheduling event", lambda: (lambda out: out if want in out else None)(
        c.kubectl("describe", "pod", "huge", "-n", ns).stdout))
    assert "FailedScheduling" in described
    got = c.get("pod", "huge", "-n", ns)
    assert got["status"]["phase"] == "Pending" and not got["spec"].get("nodeName")
    cond = next(x for x in got["status"]["conditions"] if x["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")


def _endpoint_addresses(c, ns: str, name: str) -> dict[str, str]:
    """pod name -> IP among the ready addresses of the Service's Endpoints."""
    ep = c.get("endpoints", name, "-n", ns)
    return {a["targetRef"]["name"]: a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []}


def _ready_pod_ips(c, ns: str, selector: str) -> dict[str, str]:
    out = {}
    for p in running(c.pods(ns, selector)):
        conds = {x["type"]: x["status"] for x in p["status"].get("conditions") or []}
        if conds.get("Ready") == "True" and p["status"].get("podIP"):
            out[p["metadata"]["name"]] = p["status"]["podIP"]
    return out


def test_service_endpoints_follow_ready_pods(two_nodes, ns):
    c = two_nodes
    c.kubectl("create", "-n", ns, "-f", "-", input=rc_manifest("api", 2, readiness=True))
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
           "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    c.kubectl("create", "-n", ns, "-f", "-", input=yaml.safe_dump(svc))

    def matching(n: int):
        ready = _ready_pod_ips(c, ns, "app=api")
        return ready if len(ready) == n and _endpoint_addresses(c, ns, "api") == ready else None

    ready = c.wait_for("Endpoints listing both ready pods' IPs", lambda: matching(2))
    assert all(ip.startswith("10.88.") for ip in ready.values()), ready  # real Podman bridge addresses
    gone = sorted(ready)[0]
    c.kubectl("delete", "pod", gone, "-n", ns, "--wait=false")
    c.wait_for(f"{gone} dropped from the Endpoints", lambda: gone not in _endpoint_addresses(c, ns, "api"))
    now = c.wait_for("Endpoints listing the replacement", lambda: matching(2))
    assert gone not in now
    c.kubectl("delete", "rc", "api", "-n", ns)


def test_deleting_a_namespace_with_running_pods_leaves_nothing(two_nodes, ns):
    c = two_nodes
    c.kubectl("create", "-n", ns, "-f", "-", input=rc_manifest("busy", 2))
    c.kubectl("create", "configmap", "cfg", "-n", ns, "--from-literal=k=v")
    c.kubectl("create", "secret", "generic", "sec", "-n", ns, "--from-literal=k=v")
    c.kubectl("create", "service", "clusterip", "busy", "-n", ns, "--tcp=80:8080")
    c.wait_for("2 Running pods", lambda: len(running(c.pods(ns, "app=busy"))) == 2)

    c.kubectl("delete", "namespace", ns, "--wait=false")
    assert c.get("namespace", ns)["status"]["phase"] == "Terminating"
    c.wait_for("the namespace gone", lambda: c.kubectl("get", "namespace", ns, check=False).returncode != 0,
               timeout=90)
    c.wait_for("its containers removed", lambda: podman_pods_of(ns) == [])


def _taint_keys(c, node: str) -> set[str]:
    return {t["key"] for t in c.get("node", node)["spec"].get("taints") or []}


def test_killed_node_agent_is_tainted_its_pods_move_and_it_recovers(two_nodes, ns):
    c = two_nodes
    a, b = c.nodes
    c.kubectl("create", "-n", ns, "-f", "-", input=rc_manifest("move", 4))
    c.wait_for("4 Running pods", lambda: len(running(c.pods(ns, "app=move"))) == 4)
    tolerations = c.pods(ns, "app=move")[0]["spec"]["tolerations"]
    assert {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 2} in tolerations  # the API server's shortened default
    on_b = {p["metadata"]["name"] for p in c.pods(ns, "app=move") if p["spec"]["nodeName"] == b}
    if not on_b:  # the spread is the scheduler's choice; make sure b has something to lose
        pytest.fail(f"no pod of 4 landed on {b}: {c.kubectl('get', 'pods', '-n', ns, '-o', 'wide').stdout}")

    c.agents[b].stop(signal.SIGKILL)
    try:
        c.wait_for(f"{b} Ready=Unknown", lambda: c.node_ready(b) == "Unknown", timeout=60)
        c.wait_for(f"{b} tainted unreachable",
                   lambda: "node.kubernetes.io/unreachable" in _taint_keys(c, b), timeout=20)
        assert "NotReady" in c.kubectl("get", "node", b).stdout
        c.wait_for(f"{b}'s pods evicted", lambda: all(
            p["metadata"].get("deletionTimestamp") for p in c.pods(ns, "app=move") if p["metadata"]["name"] in on_b),
            timeout=30)
        c.wait_for("TaintManagerEviction events", lambda: on_b <= {
            e["involvedObject"]["name"] for e in c.get("events", "-n", ns)["items"]
            if e["reason"] == "TaintManagerEviction"}, timeout=20)
        c.wait_for(f"4 Running replacements on {a}", lambda: (lambda pods: len(pods) == 4 and all(
            p["spec"]["nodeName"] == a for p in pods))(running(c.pods(ns, "app=move"))), timeout=60)
    finally:
        c.agents[b].start()
    c.wait_for(f"{b} Ready again", lambda: c.node_ready(b) == "True", timeout=60)
    c.wait_for(f"{b} untainted", lambda: not _taint_keys(c, b) & {"node.kubernetes.io/unreachable",
                                                                    "node.kubernetes.io/not-ready"}, timeout=30)
    # the returning agent finishes the evictions: the pods and their containers go
    c.wait_for(f"evicted pods removed by {b}", lambda: not any(
        p["metadata"]["name"] in on_b for p in c.pods(ns, "app=move")), timeout=60)
    c.wait_for(f"{b}'s containers removed", lambda: run_podman(
        "pod", "ps", "-q", "--filter", f"label={NODE_LABEL}={b}",
        "--filter", f"label=io.pocketkube.pod.namespace={ns}").stdout.split() == [], timeout=60)
    c.kubectl("delete", "rc", "move", "-n", ns)
