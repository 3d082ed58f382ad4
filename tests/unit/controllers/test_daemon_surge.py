"""The maxSurge plan of a DaemonSet rolling update, node by node."""
from __future__ import annotations

from controllers.daemonsurge import surge_plan


def _pod(name, current, available=True):
    return {"metadata": {"name": name}, "current": current, "available": available}


def _plan(by_node, max_surge):
    create, delete = surge_plan(sorted(by_node), by_node, lambda p: p["current"], lambda p: p["available"], max_surge)
    return create, [p["metadata"]["name"] for p in delete]


def test_surges_on_at_most_max_surge_nodes_keeping_old_pods():
    by_node = {n: [_pod(f"old-{n}", False)] for n in ("a", "b", "c")}
    assert _plan(by_node, 1) == (["a"], [])
    assert _plan(by_node, 2) == (["a", "b"], [])


def test_old_pod_goes_once_its_replacement_is_available():
    by_node = {"a": [_pod("old-a", False), _pod("new-a", True)], "b": [_pod("old-b", False)]}
    assert _plan(by_node, 1) == (["b"], ["old-a"])


def test_an_unavailable_replacement_holds_the_budget():
    by_node = {"a": [_pod("old-a", False), _pod("new-a", True, available=False)], "b": [_pod("old-b", False)]}
    assert _plan(by_node, 1) == ([], [])


def test_an_unavailable_old_pod_is_replaced_outside_the_budget():
    by_node = {"a": [_pod("old-a", False), _pod("new-a", True, available=False)],
               "b": [_pod("old-b", False, available=False)]}
    assert _plan(by_node, 1) == (["b"], [])


def test_duplicates_are_removed_and_up_to_date_nodes_left_alone():
    by_node = {"a": [_pod("new-a", True), _pod("new-a2", True)], "b": [_pod("new-b", True)], "c": []}
    assert _plan(by_node, 1) == ([], ["new-a2"])
