"""Preemption (upstream's DefaultPreemption): when a pod fits nowhere, look on
each node for the lower-priority pods whose removal would let it fit, keep
back (reprieve) as many of them as still allow it, and pick the node whose
victims matter least.

PodDisruptionBudgets are honoured where they can be: victims whose eviction
would take a budget below zero allowed disruptions are reprieved first, and
the node with the fewest such violations wins before any other criterion; a
node is still chosen when every choice violates a budget (preemption is not
eviction, as upstream says)."""
from __future__ import annotations

import copy

from ..selectors import matches_label_selector
from .nodeinfo import NodeInfo
from .predicates import filter_node

INT32_MAX = 2 ** 31 - 1


def priority_of(pod: dict) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


def _importance(entry) -> tuple:
    """Sort key, most important first: higher priority, then started earlier."""
    pod = entry[1]
    return -priority_of(pod), (pod.get("status") or {}).get("startTime") or "~"


def split_by_pdb(entries: list, pdbs: list[dict]) -> tuple[list, list]:
    """(victims whose eviction violates a budget, the others), in the given order: each
    victim spends one allowed disruption of every budget selecting it (upstream's
    filterPodsWithPDBViolation). A budget with an empty selector selects nothing."""
    allowed = [int((p.get("status") or {}).get("disruptionsAllowed") or 0) for p in pdbs]
    violating, fine = [], []
    for entry in entries:
        pod = entry[1]
        meta = pod["metadata"]
        labels = meta.get("labels") or {}
        violated = False
        for i, pdb in enumerate(pdbs):
            selector = (pdb.get("spec") or {}).get("selector")
            if not labels or pdb["metadata"].get("namespace") != meta.get("namespace") or not selector or \
                    not (selector.get("matchLabels") or selector.get("matchExpressions")) or \
                    not matches_label_selector(selector, labels):
                continue
            if meta["name"] in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                continue  # already counted by the disruption controller
            allowed[i] -= 1
            violated = violated or allowed[i] < 0
        (violating if violated else fine).append(entry)
    return violating, fine


def victims_on(pod: dict, info: NodeInfo, node_pods: list[tuple[str, dict, object]],
               requests: dict[str, int], pdbs: list[dict] = ()) -> tuple[list[tuple[str, dict]], int] | None:
    """(the pods to evict from this node so `pod` fits, how many of them violate a
    budget); None when no set of lower-priority pods makes room.
    node_pods: (key, pod, usage) of the pods placed on the node."""
    mine = priority_of(pod)
    lower = sorted([(k, p, u) for k, p, u in node_pods if priority_of(p) < mine], key=_importance)
    if not lower:
        return None
    trial = copy.deepcopy(info)
    for _k, _p, usage in lower:
        trial.add(usage, -1)
    if filter_node(pod, trial, requests) is not None:
        return None
    violating, fine = split_by_pdb(lower, list(pdbs))
    victims, violations = [], 0

    def reprieve(entry) -> bool:
        trial.add(entry[2])
        if filter_node(pod, trial, requests) is None:
            return True
        trial.add(entry[2], -1)
        victims.append((entry[0], entry[1]))
        return False
    for entry in violating:  # keep budget-protected pods first
        if not reprieve(entry):
            violations += 1
    for entry in fine:
        reprieve(entry)
    return victims, violations


def pick_node(candidates: dict[str, tuple[list[tuple[str, dict]], int]]) -> str | None:
    """The node whose preemption does least harm (upstream's pickOneNodeForPreemption):
    fewest budget violations, then the lowest highest victim priority, the smallest
    priority sum, the fewest victims, then the name."""
    if not candidates:
        return None

    def cost(name: str):
        victims, violations = candidates[name]
        prios = [priority_of(p) for _k, p in victims]
        # shifted so that negative priorities cannot make a bigger set look cheaper
        return (violations, max(prios, default=-(2 ** 31)), sum(p + INT32_MAX + 1 for p in prios),
                len(prios), name)
    return min(candidates, key=cost)
