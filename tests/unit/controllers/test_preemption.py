"""Picking preemption victims and the node to preempt on (pure)."""
from controllers.scheduler.nodeinfo import ClusterState, pod_requests
from controllers.scheduler.preemption import pick_node, victims_on
from nodeagent.simulated import node_object


def pod(name, prio, cpu="400m"):
    return {"metadata": {"name": name, "namespace": "d"}, "spec": {"priority": prio, "containers": [
        {"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}}


def placed(state, node, *pods):
    for p in pods:
        state.add_pod(f"d/{p['metadata']['name']}", p, node)
    return [(f"d/{p['metadata']['name']}", p, state.usage[f"d/{p['metadata']['name']}"]) for p in pods]


def test_fewest_and_lowest_victims_are_chosen():
    state = ClusterState()
    state.set_node(node_object("n1", cpu="1"))
    on_node = placed(state, "n1", pod("a", 5), pod("b", 50))
    high = pod("high", 100, cpu="500m")
    victims, violations = victims_on(high, state.nodes["n1"], on_node, pod_requests(high))
    assert [k for k, _ in victims] == ["d/a"] and violations == 0  # b is reprieved: evicting a alone makes room
    assert victims_on(pod("mid", 5, cpu="500m"), state.nodes["n1"], on_node, pod_requests(high)) is None


def test_node_with_the_least_important_victims_wins():
    assert pick_node({"n1": ([("d/x", pod("x", 50))], 0),
                      "n2": ([("d/y", pod("y", 5)), ("d/z", pod("z", 5))], 0)}) == "n2"
    # fewer budget violations beat everything else
    assert pick_node({"n1": ([("d/x", pod("x", 50))], 0), "n2": ([("d/y", pod("y", 5))], 1)}) == "n1"
    assert pick_node({}) is None


def _labelled(p, **labels):
    p["metadata"]["labels"] = labels
    return p


def _pdb(allowed, disrupted=None, **match):
    return {"metadata": {"name": "b", "namespace": "d"}, "spec": {"selector": {"matchLabels": match}},
            "status": {"disruptionsAllowed": allowed, "disruptedPods": disrupted or {}}}


def test_victims_protected_by_a_budget_are_reprieved_first():
    state = ClusterState()
    state.set_node(node_object("n1", cpu="1"))
    # two equal pods, either one's room is enough; the budget protects `kept`
    on_node = placed(state, "n1", _labelled(pod("kept", 5), app="db"), _labelled(pod("other", 5), app="web"))
    high = pod("high", 100, cpu="500m")
    victims, violations = victims_on(high, state.nodes["n1"], on_node, pod_requests(high), [_pdb(0, app="db")])
    assert [k for k, _ in victims] == ["d/other"] and violations == 0
    # when only the protected pod's eviction makes room, it goes, counted as a violation
    state2 = ClusterState()
    state2.set_node(node_object("n2", cpu="1"))
    on_node2 = placed(state2, "n2", _labelled(pod("big", 5, cpu="900m"), app="db"))
    victims, violations = victims_on(high, state2.nodes["n2"], on_node2, pod_requests(high), [_pdb(0, app="db")])
    assert [k for k, _ in victims] == ["d/big"] and violations == 1


def test_budget_allowance_is_spent_one_pod_at_a_time():
    from controllers.scheduler.preemption import split_by_pdb
    entries = [("d/a", _labelled(pod("a", 1), app="db"), None), ("d/b", _labelled(pod("b", 1), app="db"), None),
               ("d/c", _labelled(pod("c", 1), app="x"), None)]
    violating, fine = split_by_pdb(entries, [_pdb(1, app="db")])
    assert [e[0] for e in violating] == ["d/b"] and [e[0] for e in fine] == ["d/a", "d/c"]
    # a pod the disruption controller already counts does not spend the allowance again
    violating, _ = split_by_pdb(entries, [_pdb(0, disrupted={"a": "2026-01-01T00:00:00Z"}, app="db")])
    assert [e[0] for e in violating] == ["d/b"]
    assert split_by_pdb(entries, [_pdb(0)])[0] == []  # an empty selector selects nothing
