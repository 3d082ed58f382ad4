from controllers.scheduler.messages import fit_error_message
from controllers.scheduler.nodeinfo import ClusterState, pod_requests
from controllers.scheduler.predicates import filter_node
from controllers.scheduler.scoring import balanced_allocation, least_allocated, resource_scores, score_nodes


def node(name, cpu="2", mem="4Gi", pods="110", labels=None, taints=None, ready="True", unschedulable=False):
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": pods},
                       "conditions": [{"type": "Ready", "status": ready}]}}


def pod(name="p", cpu=None, mem=None, **spec):
    req = {k: v for k, v in (("cpu", cpu), ("memory", mem)) if v}
    return {"metadata": {"name": name, "namespace": "ns"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": req}}], **spec}}


def state(*nodes):
    s = ClusterState()
    for n in nodes:
        s.set_node(n)
    return s


def test_requests_sum_containers_and_take_max_of_init():
    p = pod(cpu="250m", mem="1Gi")
    p["spec"]["containers"].append({"name": "d", "resources": {"requests": {"cpu": "250m"}}})
    p["spec"]["initContainers"] = [{"name": "i", "resources": {"requests": {"cpu": "1"}}}]
    assert pod_requests(p) == {"cpu": 1000, "memory": 1 << 30}


def test_resources_count_bound_pods():
    s = state(node("n1", cpu="1"))
    s.add_pod("ns/a", pod("a", cpu="600m"), "n1")
    assert filter_node(pod(cpu="500m"), s.nodes["n1"]) == (["Insufficient cpu"], True)
    s.remove_pod("ns/a")
    assert filter_node(pod(cpu="500m"), s.nodes["n1"]) is None


def test_pod_count_and_host_ports():
    s = state(node("n1", pods="1"))
    hp = pod("a")
    hp["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    s.add_pod("ns/a", hp, "n1")
    assert filter_node(pod(), s.nodes["n1"]) == (["Too many pods"], True)
    s2 = state(node("n2"))
    s2.add_pod("ns/a", hp, "n2")
    assert filter_node(hp, s2.nodes["n2"])[0] == ["node(s) didn't have free ports for the requested pod ports"]


def test_taints_tolerations_and_readiness():
    tainted = node("t", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    s = state(tainted, node("u", ready="Unknown"))
    assert filter_node(pod(), s.nodes["t"]) == (["node(s) had untolerated taint {dedicated: gpu}"], False)
    tol = pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}])
    assert filter_node(tol, s.nodes["t"]) is None
    assert filter_node(pod(), s.nodes["u"])[0] == ["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"]
    assert filter_node(pod(tolerations=[{"operator": "Exists"}]), s.nodes["u"]) is None
    s3 = state(node("c", unschedulable=True))
    assert filter_node(pod(), s3.nodes["c"])[0] == ["node(s) were unschedulable"]


def test_node_selector_and_required_affinity_operators():
    s = state(node("a", labels={"zone": "z1", "gen": "5"}), node("b", labels={"zone": "z2"}))
    sel = pod(nodeSelector={"zone": "z1"})
    assert filter_node(sel, s.nodes["a"]) is None and filter_node(sel, s.nodes["b"])
    def aff(*exprs, fields=()):
        return pod(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": list(exprs), "matchFields": list(fields)}]}}})
    assert filter_node(aff({"key": "gen", "operator": "Gt", "values": ["4"]}), s.nodes["a"]) is None
    assert filter_node(aff({"key": "gen", "operator": "Lt", "values": ["4"]}), s.nodes["a"])
    assert filter_node(aff({"key": "zone", "operator": "NotIn", "values": ["z1"]}), s.nodes["b"]) is None
    assert filter_node(aff({"key": "gen", "operator": "DoesNotExist"}), s.nodes["b"]) is None
    assert filter_node(aff({"key": "gen", "operator": "Exists"}), s.nodes["b"])
    by_name = aff(fields=[{"key": "metadata.name", "operator": "In", "values": ["b"]}])
    assert filter_node(by_name, s.nodes["b"]) is None and filter_node(by_name, s.nodes["a"])


def test_scores_prefer_emptier_nodes_and_preferred_affinity():
    s = state(node("busy"), node("idle"))
    s.add_pod("ns/x", pod("x", cpu="1500m", mem="3Gi"), "busy")
    busy, idle = score_nodes(pod(cpu="100m"), [s.nodes["busy"], s.nodes["idle"]], 100, 100 << 20)
    assert idle > busy
    s2 = state(node("a", labels={"disk": "ssd"}), node("b"))
    pref = pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}})
    a, b = score_nodes(pref, [s2.nodes["a"], s2.nodes["b"]], 100, 100 << 20)
    assert a > b



def test_resource_scores_are_least_allocated_plus_balanced_allocation():
    # the fused loop scores as the two scores do apart: empty, half-full, overbooked nodes,
    # nodes reporting no cpu or memory, pods asking for little and for more than fits
    s = state(node("empty"), node("half", cpu="4", mem="8Gi"), node("full", cpu="1", mem="1Gi"),
              node("nocpu", cpu="0", mem="4Gi"), node("nomem", cpu="2", mem="0"))
    s.add_pod("ns/h", pod("h", cpu="2", mem="2Gi"), "half")
    s.add_pod("ns/f", pod("f", cpu="1500m", mem="2Gi"), "full")
    infos = list(s.nodes.values())
    for cpu, mem in ((1, 10 << 20), (100, 200 << 20), (3000, 6 << 30)):
        assert resource_scores(infos, cpu, mem) == [least_allocated(i, cpu, mem) + balanced_allocation(i, cpu, mem)
                                                    for i in infos]

def test_node_only_filters_are_remembered_per_kind_of_pod_until_the_node_changes():
    taint = {"key": "k", "value": "v", "effect": "NoSchedule"}
    s = state(node("n1", labels={"zone": "a"}, taints=[taint]))
    info = s.nodes["n1"]
    tolerant = pod(tolerations=[{"key": "k", "operator": "Exists"}])
    picky = pod(tolerations=[{"key": "k", "operator": "Exists"}], nodeSelector={"zone": "b"})
    untainted = (["node(s) had untolerated taint {k: v}"], False)
    for _ in range(2):  # asked again, each kind of pod gets its own answer, not the other's
        assert filter_node(pod(), info) == untainted
        assert filter_node(tolerant, info) is None
        assert filter_node(picky, info) == (["node(s) didn't match Pod's node affinity/selector"], False)
    # the answers are about the node object: a changed node is looked at again
    s.set_node(node("n1", labels={"zone": "b"}, unschedulable=True))
    assert filter_node(pod(), info) == (["node(s) were unschedulable"], False)
    s.set_node(node("n1", labels={"zone": "b"}))
    assert filter_node(pod(), info) is None and filter_node(picky, info) is None
    # what the pods on it use is never remembered
    s.set_node(node("n1", cpu="1", labels={"zone": "b"}))
    assert filter_node(pod(cpu="600m"), info) is None
    s.add_pod("ns/a", pod("a", cpu="600m"), "n1")
    assert filter_node(pod(cpu="600m"), info) == (["Insufficient cpu"], True)


def test_failed_scheduling_message_like_upstream():
    failures = {"n1": (["Insufficient cpu"], True),
                "n2": (["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"], False),
                "n3": (["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"], False)}
    assert fit_error_message(3, failures) == (
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
        "{node.kubernetes.io/unreachable: }. preemption: 0/3 nodes are available: "
        "1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..")
    assert fit_error_message(0, {}) == "no nodes available to schedule pods"


def test_inter_pod_affinity_and_anti_affinity_by_topology():
    from controllers.scheduler.interpod import InterPodCheck
    s = state(node("a1", labels={"zone": "a"}), node("a2", labels={"zone": "a"}), node("b1", labels={"zone": "b"}))
    db = pod("db")
    db["metadata"]["labels"] = {"app": "db"}
    db["spec"]["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "noisy"}}, "topologyKey": "zone"}]}}
    s.add_pod("ns/db", db, "a1")
    near = pod("web", affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}]}})
    check = InterPodCheck(near, s, "ns/web")
    assert check.check(s.nodes["a2"]) is None
    assert filter_node(near, s.nodes["b1"], None, [check]) == (["node(s) didn't match pod affinity rules"], False)
    apart = pod("spread", affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]}})
    for n in s.nodes.values():
        n.node["metadata"]["labels"]["kubernetes.io/hostname"] = n.node["metadata"]["name"]
    check = InterPodCheck(apart, s, "ns/spread")
    assert check.check(s.nodes["a1"]) == (["node(s) didn't match pod anti-affinity rules"], True)
    assert check.check(s.nodes["a2"]) is None
    noisy = pod("noisy")
    noisy["metadata"]["labels"] = {"app": "noisy"}
    check = InterPodCheck(noisy, s, "ns/noisy")  # db's own anti-affinity keeps it out of zone a
    assert check.check(s.nodes["a2"]) == (["node(s) didn't satisfy existing pods anti-affinity rules"], True)
    assert check.check(s.nodes["b1"]) is None
    first = pod("first", affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "grp"}}, "topologyKey": "zone"}]}})
    first["metadata"]["labels"] = {"app": "grp"}
    assert InterPodCheck(first, s, "ns/first").check(s.nodes["b1"]) is None  # may start its own group


def test_topology_spread_do_not_schedule():
    from controllers.scheduler.topologyspread import TopologySpreadCheck
    s = state(node("a1", labels={"zone": "a"}), node("b1", labels={"zone": "b"}), node("x"))
    for i in range(2):
        p = pod(f"w{i}")
        p["metadata"]["labels"] = {"app": "w"}
        s.add_pod(f"ns/w{i}", p, "a1")
    new = pod("w9", topologySpreadConstraints=[{"maxSkew": 1, "topologyKey": "zone",
                                                "whenUnsatisfiable": "DoNotSchedule",
                                                "labelSelector": {"matchLabels": {"app": "w"}}}])
    new["metadata"]["labels"] = {"app": "w"}
    check = TopologySpreadCheck(new, s, "ns/w9")
    assert check.check(s.nodes["a1"]) == (["node(s) didn't match pod topology spread constraints"], True)
    assert check.check(s.nodes["b1"]) is None
    assert check.check(s.nodes["x"])[0] == ["node(s) didn't match pod topology spread constraints (missing required label)"]


def test_pod_overhead_counts_in_fit_and_in_scoring():
    from controllers.scheduler.nodeinfo import pod_nonzero_requests, pod_requests
    pod = {"spec": {"overhead": {"cpu": "250m", "memory": "64Mi"},
                    "containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}],
                    "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "500m"}}}]}}
    # the larger of the containers' sum and any init container, then the overhead on top
    assert pod_requests(pod) == {"cpu": 750, "memory": 64 * 2 ** 20}
    assert pod_nonzero_requests(pod) == (350, 200 * 2 ** 20 + 64 * 2 ** 20)
