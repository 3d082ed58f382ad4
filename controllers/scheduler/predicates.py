"""Filters: can this pod go on this node? Each returns the reasons it cannot, in
upstream's words (they end up counted in the FailedScheduling message), and
whether preempting other pods could ever help (it cannot for taints or affinity).
"""
from __future__ import annotations

from ..selectors import matches_requirement
from ..taints import UNSCHEDULABLE, effective_taints, taint_string, tolerating
from .nodeinfo import NodeInfo, pod_host_ports, pod_requests, ports_conflict

UNSCHEDULABLE_MSG = "node(s) were unschedulable"
AFFINITY_MSG = "node(s) didn't match Pod's node affinity/selector"
PORTS_MSG = "node(s) didn't have free ports for the requested pod ports"
TOO_MANY_PODS = "Too many pods"


def node_selector_term_matches(term: dict, node: dict) -> bool:
    """One NodeSelectorTerm: all of its expressions and fields; an empty term matches nothing."""
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = node["metadata"].get("labels") or {}
    if not all(matches_requirement(e, labels) for e in exprs):
        return False
    node_fields = {"metadata.name": node["metadata"]["name"]}
    return all(matches_requirement(f, node_fields) for f in fields)


def required_affinity_matches(pod: dict, node: dict) -> bool:
    spec = pod.get("spec") or {}
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return True
    return any(node_selector_term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])


def check_unschedulable(pod, info: NodeInfo):
    if (info.node.get("spec") or {}).get("unschedulable"):
        taint = {"key": UNSCHEDULABLE, "effect": "NoSchedule"}
        if not tolerating((pod.get("spec") or {}).get("tolerations"), taint):
            return [UNSCHEDULABLE_MSG]
    return None


def check_taints(pod, info: NodeInfo):
    tolerations = (pod.get("spec") or {}).get("tolerations")
    for taint in effective_taints(info.node):
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerating(tolerations, taint):
            return [f"node(s) had untolerated taint {taint_string(taint)}"]
    return None


def check_affinity(pod, info: NodeInfo):
    return None if required_affinity_matches(pod, info.node) else [AFFINITY_MSG]


def check_ports(pod, info: NodeInfo):
    wanted = pod_host_ports(pod)
    return [PORTS_MSG] if wanted and ports_conflict(wanted, info.ports) else None


def check_resources(pod, info: NodeInfo, requests: dict[str, int] | None = None):
    reasons = []
    if info.pod_count + 1 > info.allocatable.get("pods", 110):
        reasons.append(TOO_MANY_PODS)
    for name, want in sorted((requests if requests is not None else pod_requests(pod)).items()):
        if want and info.requested.get(name, 0) + want > info.allocatable.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons or None


# (filter, can preemption help?) in upstream's plugin order; the first failure counts.
FILTERS = [
    (check_unschedulable, False),
    (check_taints, False),
    (check_affinity, False),
    (check_ports, True),
    (check_resources, True),
]


def filter_node(pod: dict, info: NodeInfo, requests: dict[str, int] | None = None,
                extra=()) -> tuple[list[str], bool] | None:
    """None if the pod fits, else (reasons, preemption_might_help). `extra` holds
    checks prepared once per pod that look at other pods (inter-pod affinity,
    topology spread); each `check(info)` returns None or (reasons, resolvable)."""
    for check, resolvable in FILTERS:
        reasons = check(pod, info, requests) if check is check_resources else check(pod, info)
        if reasons:
            return reasons, resolvable
    for prepared in extra:
        failed = prepared.check(info)
        if failed:
            return failed
    return None
