"""Basic preemption (upstream's DefaultPreemption, without PDBs): when a pod
fits nowhere, look on each node for the lower-priority pods whose removal would
let it fit, keep back (reprieve) as many of them as still allow it, highest
priority first, and pick the node whose victims matter least: the lowest
highest victim priority, then the smallest priority sum, then the fewest."""
from __future__ import annotations

import copy

from .nodeinfo import NodeInfo
from .predicates import filter_node


def priority_of(pod: dict) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


def victims_on(pod: dict, info: NodeInfo, node_pods: list[tuple[str, dict, object]],
               requests: dict[str, int]) -> list[tuple[str, dict]] | None:
    """The pods to evict from this node so `pod` fits (None: no set of lower-priority pods does).
    node_pods: (key, pod, usage) of the pods placed on the node."""
    mine = priority_of(pod)
    lower = [(k, p, u) for k, p, u in node_pods if priority_of(p) < mine]
    if not lower:
        return None
    trial = copy.deepcopy(info)
    for _k, _p, usage in lower:
        trial.add(usage, -1)
    if filter_node(pod, trial, requests) is not None:
        return None
    victims = []
    for k, p, usage in sorted(lower, key=lambda t: priority_of(t[1]), reverse=True):
        trial.add(usage)
        if filter_node(pod, trial, requests) is not None:
            trial.add(usage, -1)
            victims.append((k, p))
    return victims


def pick_node(candidates: dict[str, list[tuple[str, dict]]]) -> str | None:
    """The node whose victims matter least (upstream's pickOneNodeForPreemption, first criteria)."""
    if not candidates:
        return None

    def cost(name: str):
        prios = [priority_of(p) for _k, p in candidates[name]]
        return (max(prios, default=-(2 ** 31)), sum(prios), len(prios), name)
    return min(candidates, key=cost)
