"""Scores (0..100 each, higher is better) among the nodes that passed the filters:
least allocated, balanced allocation, and preferred node affinity."""
from __future__ import annotations

from .nodeinfo import NodeInfo
from .predicates import node_selector_term_matches


def least_allocated(info: NodeInfo, cpu: int, mem: int) -> float:
    scores = []
    for used, want, alloc in ((info.nonzero_cpu, cpu, info.allocatable.get("cpu", 0)),
                              (info.nonzero_mem, mem, info.allocatable.get("memory", 0))):
        scores.append(0.0 if alloc <= 0 or used + want > alloc else (alloc - used - want) * 100.0 / alloc)
    return sum(scores) / len(scores)


def balanced_allocation(info: NodeInfo, cpu: int, mem: int) -> float:
    fractions = []
    for used, want, alloc in ((info.nonzero_cpu, cpu, info.allocatable.get("cpu", 0)),
                              (info.nonzero_mem, mem, info.allocatable.get("memory", 0))):
        fractions.append(min(1.0, (used + want) / alloc) if alloc > 0 else 1.0)
    # with two resources the standard deviation is half their difference
    return (1.0 - abs(fractions[0] - fractions[1]) / 2) * 100.0


def preferred_affinity_raw(pod: dict, info: NodeInfo) -> int:
    prefs = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "preferredDuringSchedulingIgnoredDuringExecution") or []
    return sum(int(p.get("weight") or 0) for p in prefs
               if node_selector_term_matches(p.get("preference") or {}, info.node))


def resource_scores(infos: list[NodeInfo], cpu: int, mem: int) -> list[float]:
    """least_allocated + balanced_allocation of each node, in one loop: a decision scores
    hundreds of nodes, and two calls and four tuples a node were most of its time."""
    out = []
    append = out.append
    for i in infos:
        acpu, amem = i.alloc_cpu, i.alloc_mem
        ucpu, umem = i.nonzero_cpu + cpu, i.nonzero_mem + mem
        least = ((0.0 if acpu <= 0 or ucpu > acpu else (acpu - ucpu) * 100.0 / acpu)
                 + (0.0 if amem <= 0 or umem > amem else (amem - umem) * 100.0 / amem)) / 2
        # min(1.0, used / alloc), written out: a call per resource per node was a tenth of the loop
        fcpu = (1.0 if ucpu >= acpu else ucpu / acpu) if acpu > 0 else 1.0
        fmem = (1.0 if umem >= amem else umem / amem) if amem > 0 else 1.0
        append(least + (1.0 - abs(fcpu - fmem) / 2) * 100.0)
    return out


def score_nodes(pod: dict, infos: list[NodeInfo], cpu: int, mem: int) -> list[float]:
    resources = resource_scores(infos, cpu, mem)
    # a pod without preferences scores 0 on every node: skip asking each node (hundreds a decision)
    if not (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
            "preferredDuringSchedulingIgnoredDuringExecution"):
        return resources
    affinity = [preferred_affinity_raw(pod, i) for i in infos]
    top = max(affinity) if affinity else 0
    return [r + (a * 100.0 / top if top else 0) for r, a in zip(resources, affinity)]
