"""The FailedScheduling message, worded and ordered as kube-scheduler words it:
"0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint
{node.kubernetes.io/unreachable: }. preemption: 0/3 nodes are available: 1 No
preemption victims found for incoming pod, 2 Preemption is not helpful for
scheduling.." (reason counts sorted as strings; the doubled full stop is upstream's).
"""
from __future__ import annotations

from collections import Counter

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"


def _histogram(counter: Counter) -> str:
    return ", ".join(sorted(f"{n} {reason}" for reason, n in counter.items()))


def fit_error_message(total_nodes: int, failures: dict[str, tuple[list[str], bool]],
                      prefilter: str | None = None, preempted: bool = False) -> str:
    """failures: node name -> (reasons, preemption_might_help). `prefilter`: why the pod
    was refused before any node was looked at (a missing claim): then no node helps."""
    if total_nodes == 0:
        return "no nodes available to schedule pods"
    if prefilter:
        return (f"0/{total_nodes} nodes are available: {prefilter}. preemption: 0/{total_nodes} nodes are "
                f"available: {total_nodes} {NOT_HELPFUL}..")
    reasons: Counter = Counter()
    preemption: Counter = Counter()
    for node_reasons, helpful in failures.values():
        reasons.update(node_reasons)
        preemption[NO_VICTIMS if helpful else NOT_HELPFUL] += 1
    msg = f"0/{total_nodes} nodes are available: {_histogram(reasons)}."
    if preempted:  # preemption found room: upstream adds no preemption part
        return msg
    post = f"preemption: 0/{total_nodes} nodes are available: {_histogram(preemption)}."
    return f"{msg} {post}."
