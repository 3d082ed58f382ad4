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
    victims = victims_on(high, state.nodes["n1"], on_node, pod_requests(high))
    assert [k for k, _ in victims] == ["d/a"]  # b is reprieved: evicting a alone makes room
    assert victims_on(pod("mid", 5, cpu="500m"), state.nodes["n1"], on_node, pod_requests(high)) is None


def test_node_with_the_least_important_victims_wins():
    assert pick_node({"n1": [("d/x", pod("x", 50))], "n2": [("d/y", pod("y", 5)), ("d/z", pod("z", 5))]}) == "n2"
    assert pick_node({}) is None
