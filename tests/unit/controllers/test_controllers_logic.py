import time

from controllers.endpointslices import desired_slices
from controllers.garbagecollector import Graph, Node
from controllers.nodelifecycle import eviction_deadline, wanted_taints
from controllers.podgc import terminated_to_delete
from controllers.podutil import deletion_rank
from controllers.ownership import Expectations
from controllers.replication import compute_status, pod_from_template
from controllers.selectors import matches_label_selector, matches_labels
from controllers.servicepods import endpoint_subsets, resolve_target_port
from controllers.taints import tolerates
from kubeclient import Resource


def pod(name, ip=None, ready=None, labels=None, node=None, phase="Running", created="2026-01-01T00:00:00Z",
        ports=None, deleting=False):
    conds = [] if ready is None else [{"type": "Ready", "status": "True" if ready else "False"}]
    meta = {"name": name, "namespace": "ns", "uid": f"uid-{name}", "labels": labels or {"app": "a"},
            "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = created
    return {"metadata": meta,
            "spec": {"nodeName": node, "containers": [{"name": "c", "ports": ports or []}]},
            "status": {"phase": phase, "podIP": ip, "conditions": conds}}


SVC = {"metadata": {"name": "s"}, "spec": {"selector": {"app": "a"}, "ports": [
    {"name": "http", "port": 80, "targetPort": "web"}, {"name": "raw", "port": 81, "targetPort": 9000}]}}


def test_named_and_numeric_target_ports():
    p = pod("p", ports=[{"name": "web", "containerPort": 8080}])
    assert resolve_target_port(SVC["spec"]["ports"][0], p) == 8080
    assert resolve_target_port(SVC["spec"]["ports"][1], p) == 9000
    assert resolve_target_port(SVC["spec"]["ports"][0], pod("q")) is None


def test_endpoint_subsets_split_ready_and_group_by_ports():
    web = [{"name": "web", "containerPort": 8080}]
    pods = [pod("a", "10.0.0.2", True, ports=web), pod("b", "10.0.0.1", False, ports=web),
            pod("c", "10.0.0.3", True), pod("noip", None, True, ports=web),
            pod("other", "10.0.0.9", True, labels={"app": "z"}, ports=web),
            pod("done", "10.0.0.8", True, phase="Succeeded", ports=web),
            pod("going", "10.0.0.7", True, ports=web, deleting=True)]
    subsets = endpoint_subsets(SVC, pods)
    assert len(subsets) == 2
    only_raw, both = sorted(subsets, key=lambda s: len(s["ports"]))
    assert [a["ip"] for a in only_raw["addresses"]] == ["10.0.0.3"]
    assert [a["ip"] for a in both["addresses"]] == ["10.0.0.2"]
    assert [a["ip"] for a in both["notReadyAddresses"]] == ["10.0.0.1"]
    assert {(p["name"], p["port"]) for p in both["ports"]} == {("http", 8080), ("raw", 9000)}


def test_desired_slices_keep_terminating_pods_as_not_ready():
    web = [{"name": "web", "containerPort": 8080}]
    slices = desired_slices(SVC, [pod("a", "10.0.0.2", True, ports=web, deleting=True)])
    (ports, eps), = slices
    assert eps[0]["conditions"] == {"ready": False, "serving": True, "terminating": True}


def test_scale_down_order_unscheduled_then_not_ready_then_newest():
    pods = [pod("ready-old", "1", True, node="n", created="2026-01-01T00:00:00Z"),
            pod("ready-new", "2", True, node="n", created="2026-01-02T00:00:00Z"),
            pod("notready", "3", False, node="n"),
            pod("unscheduled", None, None, node=None, phase="Pending")]
    order = [p["metadata"]["name"] for p in sorted(pods, key=deletion_rank)]
    assert order == ["unscheduled", "notready", "ready-new", "ready-old"]


def test_rc_template_and_status():
    rc = {"metadata": {"name": "web", "namespace": "ns", "uid": "u1", "generation": 4},
          "spec": {"replicas": 3, "selector": {"app": "a"},
                   "template": {"metadata": {"labels": {"app": "a", "tier": "x"}}, "spec": {"containers": []}}}}
    body = pod_from_template(rc)
    assert body["metadata"]["generateName"] == "web-"
    assert body["metadata"]["ownerReferences"][0] == {"apiVersion": "v1", "kind": "ReplicationController",
                                                      "name": "web", "uid": "u1", "controller": True,
                                                      "blockOwnerDeletion": True}
    status = compute_status(rc, [pod("a", "1", True, labels={"app": "a", "tier": "x"}), pod("b", "2", False)])
    assert status == {"replicas": 2, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                      "observedGeneration": 4}


def test_expectations_count_creates_and_dedupe_deletes():
    e = Expectations()
    e.expect("k", adds=2)
    e.observe_add("k")
    assert not e.satisfied("k")
    e.observe_add("k")
    assert e.satisfied("k")
    e.expect("k", delete_uids={"u1"})
    e.observe_delete("k", "u1")
    e.observe_delete("k", "u1")
    assert e.satisfied("k")


def test_selectors():
    assert matches_labels({"a": "1"}, {"a": "1", "b": "2"}) and not matches_labels({}, {"a": "1"})
    sel = {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "NotIn", "values": ["x"]}]}
    assert matches_label_selector(sel, {"a": "1"}) and not matches_label_selector(sel, {"a": "1", "b": "x"})
    assert matches_label_selector({}, {"any": "thing"})


def test_toleration_matching():
    taint = {"key": "k", "value": "v", "effect": "NoExecute"}
    assert tolerates({"key": "k", "value": "v"}, taint)
    assert tolerates({"key": "k", "operator": "Exists", "effect": "NoExecute"}, taint)
    assert tolerates({"operator": "Exists"}, taint)
    assert not tolerates({"key": "k", "value": "w"}, taint)
    assert not tolerates({"key": "k", "operator": "Exists", "effect": "NoSchedule"}, taint)


def test_health_taints_follow_readiness():
    node = {"spec": {"taints": [{"key": "mine", "effect": "NoSchedule"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert wanted_taints(node, unreachable=False) == [{"key": "mine", "effect": "NoSchedule"}]
    taints = wanted_taints(node, unreachable=True)
    assert {(t["key"], t["effect"]) for t in taints} == {
        ("mine", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute")}
    node["status"]["conditions"][0]["status"] = "False"
    assert ("node.kubernetes.io/not-ready", "NoExecute") in {(t["key"], t["effect"])
                                                            for t in wanted_taints(node, False)}


def test_memory_pressure_condition_taints_the_node_while_it_lasts():
    node = {"spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True"},
                                                  {"type": "MemoryPressure", "status": "True"}]}}
    assert wanted_taints(node, unreachable=False) == [
        {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}]
    node["spec"]["taints"] = wanted_taints(node, unreachable=False)
    node["status"]["conditions"][1]["status"] = "False"
    assert wanted_taints(node, unreachable=False) == []


def test_eviction_deadlines():
    taint = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}
    added = 1767225600.0
    p = pod("p")
    assert eviction_deadline(p, [taint], 300) == added + 300  # the default toleration
    p["spec"]["tolerations"] = [{"key": taint["key"], "operator": "Exists", "effect": "NoExecute",
                                 "tolerationSeconds": 5}]
    assert eviction_deadline(p, [taint], 300) == added + 5
    p["spec"]["tolerations"] = [{"operator": "Exists"}]
    assert eviction_deadline(p, [taint], 300) is None
    other = {"key": "custom", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}
    assert eviction_deadline(pod("q"), [other], 300) == added  # untolerated: at once
    assert eviction_deadline(pod("q"), [{"key": "x", "effect": "NoSchedule"}], 300) is None
    assert time.time() > added


def test_terminated_pod_gc_threshold():
    pods = [pod(f"p{i}", phase="Succeeded", created=f"2026-01-0{i}T00:00:00Z") for i in range(1, 5)]
    pods.append(pod("running"))
    assert [p["metadata"]["name"] for p in terminated_to_delete(pods, 2)] == ["p1", "p2"]
    assert terminated_to_delete(pods, 10) == [] and terminated_to_delete(pods, 0) == []


def test_gc_graph_tracks_dependents_through_owner_changes():
    g = Graph()
    res = Resource("", "v1", "configmaps")
    owner = {"metadata": {"name": "o", "namespace": "ns", "uid": "O"}}
    dep = {"metadata": {"name": "d", "namespace": "ns", "uid": "D", "ownerReferences": [{"uid": "O"}]}}
    g.upsert(Node(res, owner))
    g.upsert(Node(res, dep))
    assert [n.name for n in g.dependents_of("O")] == ["d"]
    dep["metadata"]["ownerReferences"] = [{"uid": "X"}]
    g.upsert(Node(res, dep))
    assert g.dependents_of("O") == [] and [n.name for n in g.dependents_of("X")] == ["d"]
    g.remove("D")
    assert g.dependents_of("X") == []


def test_gc_graph_remembers_deleted_uids_as_absent_within_a_bound():
    g = Graph(absent_size=2)
    res = Resource("", "v1", "configmaps")
    for uid in ("A", "B", "C"):
        g.upsert(Node(res, {"metadata": {"name": uid.lower(), "namespace": "ns", "uid": uid}}))
    assert g.deleted("A").name == "a" and "A" not in g.nodes and "A" in g.absent
    g.deleted("B")
    g.deleted("C")
    assert list(g.absent) == ["B", "C"]  # the oldest is forgotten: then the API is asked again
    g.upsert(Node(res, {"metadata": {"name": "c", "namespace": "ns", "uid": "C"}}))
    assert "C" not in g.absent  # seen alive again: absence is not trusted over it


def test_pods_to_claim_are_the_owners_and_its_namespaces_orphans():
    from controllers.ownership import CONTROLLER_INDEX, controller_index, pods_to_claim
    from kubeclient.informer import Informer
    from kubeclient.resources import PODS
    inf = Informer(None, PODS)
    inf.add_index(CONTROLLER_INDEX, controller_index)
    ref = lambda uid: [{"uid": uid, "controller": True, "kind": "ReplicaSet", "name": uid}]
    pod = lambda ns, name, refs=None: {"metadata": {"namespace": ns, "name": name, "resourceVersion": "1",
                                                    **({"ownerReferences": refs} if refs else {})}}
    for p in (pod("a", "mine", ref("R")), pod("a", "orphan"), pod("a", "other", ref("S")), pod("b", "orphan"),
              pod("a", "not-controller", [{"uid": "R", "kind": "ReplicaSet", "name": "R"}])):
        inf._apply("ADDED", p)
    rs = {"metadata": {"namespace": "a", "name": "R", "uid": "R"}}
    names = sorted(p["metadata"]["name"] for p in pods_to_claim(inf, rs))
    assert names == ["mine", "not-controller", "orphan"]  # an owner reference that is not the controller: an orphan
    # exactly what claim_pods would act on among the namespace's pods
    from controllers.podutil import controller_ref
    assert names == sorted(p["metadata"]["name"] for p in inf.list("a")
                           if (controller_ref(p) or {}).get("uid") in ("R", None))
    inf._apply("MODIFIED", pod("a", "orphan", ref("R")))  # adopted
    assert sorted(p["metadata"]["name"] for p in pods_to_claim(inf, rs)) == ["mine", "not-controller", "orphan"]
    assert pods_to_claim(inf, {"metadata": {"namespace": "a", "name": "S2", "uid": "S2"}})[0]["metadata"]["name"] \
        == "not-controller"


def test_hostname_set_when_the_pod_subdomain_names_the_service():
    svc = {"metadata": {"name": "s", "namespace": "ns"}, "spec": {"clusterIP": "None", "selector": {"app": "a"}}}
    named = pod("a", "10.0.0.2", True)
    named["spec"].update(hostname="host-a", subdomain="s")
    other = pod("b", "10.0.0.3", True)
    other["spec"].update(hostname="host-b", subdomain="elsewhere")
    (_, eps), = desired_slices(svc, [named, other])
    assert [(e["addresses"][0], e.get("hostname")) for e in eps] == [("10.0.0.2", "host-a"), ("10.0.0.3", None)]
    (subset,) = endpoint_subsets(svc, [named, other])
    assert [(a["ip"], a.get("hostname")) for a in subset["addresses"]] == [("10.0.0.2", "host-a"), ("10.0.0.3", None)]
    assert "hostname" not in desired_slices({**svc, "metadata": {"name": "s", "namespace": "x"}}, [named])[0][1][0]
