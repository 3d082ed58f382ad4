"""Filters: can this pod go on this node? Each returns the reasons it cannot, in
upstream's words (they end up counted in the FailedScheduling message), and
whether preempting other pods could ever help (it cannot for taints or affinity).
"""
from __future__ import annotations

import orjson

from ..selectors import matches_requirement
from ..taints import UNSCHEDULABLE, taint_string, tolerating
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


class PodFit:
    """The filters, in upstream's plugin order (the first failure counts), prepared once
    for one pod: what they read from the pod (tolerations, node selector, required node
    affinity, host ports, requests) is taken out once per decision, not once per node;
    at 5,000 nodes a decision filters a few hundred of them. `extra` holds checks
    prepared once per pod that look at other pods (inter-pod affinity, topology
    spread); each `check(info)` returns None or (reasons, resolvable).

    The first filters (cordon, taints, node selector and affinity) read only the node
    object and the pod's placement constraints, which the pods of one workload share:
    their answer is kept on the node (NodeInfo.placement) under the pod's constraints
    (`placement_key`) until the node object changes, so each node runs them once per
    kind of pod, not once per pod."""

    def __init__(self, pod: dict, requests: dict[str, int] | None = None, extra=()):
        spec = pod.get("spec") or {}
        self.tolerations = spec.get("tolerations")
        self.blocked_by_cordon = not tolerating(self.tolerations, {"key": UNSCHEDULABLE, "effect": "NoSchedule"})
        self.selector = list((spec.get("nodeSelector") or {}).items())
        required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution")
        self.terms = None if required is None else required.get("nodeSelectorTerms") or []
        self.placement_key = orjson.dumps([self.tolerations, self.selector, self.terms],
                                          option=orjson.OPT_SORT_KEYS)
        self.ports = pod_host_ports(pod)
        self.requests = sorted((requests if requests is not None else pod_requests(pod)).items())
        self.extra = extra

    def placement(self, info: NodeInfo) -> tuple[list[str], bool] | None:
        """The filters that read only the node object: None if they pass."""
        node = info.node
        if self.blocked_by_cordon and (node.get("spec") or {}).get("unschedulable"):
            return [UNSCHEDULABLE_MSG], False
        for taint in info.taints:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerating(self.tolerations, taint):
                return [f"node(s) had untolerated taint {taint_string(taint)}"], False
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in self.selector) or (
                self.terms is not None and not any(node_selector_term_matches(t, node) for t in self.terms)):
            return [AFFINITY_MSG], False
        return None

    def check(self, info: NodeInfo) -> tuple[list[str], bool] | None:
        """None if the pod fits, else (reasons, preemption_might_help)."""
        memo = info.placement
        failed = memo.get(self.placement_key, _UNKNOWN)
        if failed is _UNKNOWN:
            if len(memo) >= _PLACEMENT_MEMO:
                memo.clear()  # many kinds of pods: keep the memo small rather than complete
            failed = memo[self.placement_key] = self.placement(info)
        if failed:
            return failed
        if self.ports and ports_conflict(self.ports, info.ports):
            return [PORTS_MSG], True
        reasons = None
        if info.pod_count >= info.allocatable.get("pods", 110):
            reasons = [TOO_MANY_PODS]
        requested, allocatable = info.requested, info.allocatable
        for name, want in self.requests:
            if want and requested.get(name, 0) + want > allocatable.get(name, 0):
                if reasons is None:
                    reasons = []
                reasons.append(f"Insufficient {name}")
        if reasons:
            return reasons, True
        for prepared in self.extra:
            failed = prepared.check(info)
            if failed:
                return failed
        return None


_UNKNOWN = object()
_PLACEMENT_MEMO = 32  # kinds of pods whose placement answers a node keeps


def filter_node(pod: dict, info: NodeInfo, requests: dict[str, int] | None = None,
                extra=()) -> tuple[list[str], bool] | None:
    """None if the pod fits, else (reasons, preemption_might_help); see PodFit."""
    return PodFit(pod, requests, extra).check(info)
