"""How many feasible nodes a decision looks for before it stops filtering, as upstream's
percentageOfNodesToScore (adaptive by default): in a big cluster, scoring the first few
hundred nodes that fit is as good as scoring all of them, and filtering every node for
every pod is what limits the scheduler's pods/s.

Every node is filtered when the cluster has fewer than 100 nodes or when too few fit
(so a pod that fits nowhere is still reported against every node). The search starts
where the previous one stopped, so that over many pods every node gets its turn.
"""
from __future__ import annotations

from itertools import chain, islice

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE = 5
DEFAULT_PERCENTAGE = 50  # minus one per 125 nodes, as upstream's adaptive percentage


def feasible_nodes_to_find(all_nodes: int, percentage: int = 0) -> int:
    """upstream's numFeasibleNodesToFind; percentage 0 means adaptive."""
    if all_nodes < MIN_FEASIBLE_NODES_TO_FIND or percentage >= 100:
        return all_nodes
    if percentage <= 0:
        percentage = max(DEFAULT_PERCENTAGE - all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE)
    return max(all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


def rotated(names: list[str], start: int):
    """names from index start (mod len), wrapping around, without copying the list: a
    decision at 5,000 nodes walks a tenth of them."""
    if not names:
        return iter(())
    start %= len(names)
    return chain(islice(names, start, None), islice(names, 0, start))
