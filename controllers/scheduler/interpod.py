"""Required inter-pod affinity and anti-affinity, by topology key.

A term names pods (label selector, in the pod's own namespace unless it lists
namespaces) and a topology key (a node label such as kubernetes.io/hostname or
topology.kubernetes.io/zone). Affinity: the node's domain (nodes sharing its
value for the key) must already hold a matching pod; the first pod of a group
that matches its own term may go anywhere, else it could never start. Anti-
affinity: the domain must hold none; and, symmetrically, no pod already placed
may have an anti-affinity term that the incoming pod matches in that domain.
Checked in upstream's order: affinity, anti-affinity, existing pods' anti-affinity.

The work per decision is one pass over placed pods to find, per term, the
topology values where matches exist; each node is then an O(1) lookup.
"""
from __future__ import annotations

from ..selectors import matches_label_selector
from .nodeinfo import ClusterState

AFFINITY_MSG = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_MSG = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_MSG = "node(s) didn't satisfy existing pods anti-affinity rules"


def _required(pod: dict, kind: str) -> list[dict]:
    return ((((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {})
            .get("requiredDuringSchedulingIgnoredDuringExecution") or [])


def _term_matches(term: dict, owner_ns: str, ns: str, labels: dict) -> bool:
    namespaces = term.get("namespaces") or []
    if term.get("namespaceSelector") == {}:
        pass  # an empty namespace selector means every namespace
    elif ns not in (namespaces or [owner_ns]):
        return False
    return matches_label_selector(term.get("labelSelector"), labels)


def _value(state: ClusterState, node: str, key: str):
    info = state.nodes.get(node)
    return None if info is None else (info.node["metadata"].get("labels") or {}).get(key)


class InterPodCheck:
    """Prepared once per pod; `check(node_info)` returns reasons or None."""

    def __init__(self, pod: dict, state: ClusterState, self_key: str):
        self.state = state
        ns = pod["metadata"].get("namespace", "")
        labels = pod["metadata"].get("labels") or {}
        self.affinity = _required(pod, "podAffinity")
        self.anti = _required(pod, "podAntiAffinity")
        # per term: the topology values where a matching pod runs
        self.affinity_domains = [set() for _ in self.affinity]
        self.anti_domains = [set() for _ in self.anti]
        self.existing_anti: set[tuple[str, str]] = set()  # (topology key, value) forbidden by placed pods
        self.self_match = [_term_matches(t, ns, ns, labels) for t in self.affinity]
        if not (self.affinity or self.anti or state.with_anti_affinity):
            self.active = False
            return
        for key, usage in state.usage.items():
            if key == self_key:
                continue
            for i, term in enumerate(self.affinity):
                if _term_matches(term, ns, usage.namespace, usage.labels):
                    v = _value(state, usage.node, term.get("topologyKey", ""))
                    if v is not None:
                        self.affinity_domains[i].add(v)
            for i, term in enumerate(self.anti):
                if _term_matches(term, ns, usage.namespace, usage.labels):
                    v = _value(state, usage.node, term.get("topologyKey", ""))
                    if v is not None:
                        self.anti_domains[i].add(v)
            for term in usage.anti_affinity:
                if _term_matches(term, usage.namespace, ns, labels):
                    tk = term.get("topologyKey", "")
                    v = _value(state, usage.node, tk)
                    if v is not None:
                        self.existing_anti.add((tk, v))
        self.active = bool(self.affinity or self.anti or self.existing_anti)

    def check(self, info) -> tuple[list[str], bool] | None:
        """None if allowed, else (reasons, preemption_might_help): evicting pods
        cannot create a missing affinity partner, but can clear anti-affinity."""
        labels = info.node["metadata"].get("labels") or {}
        for i, term in enumerate(self.affinity):
            v = labels.get(term.get("topologyKey", ""))
            if v is None:
                return [AFFINITY_MSG], False
            if v not in self.affinity_domains[i]:
                # nobody matches anywhere and the pod matches itself: it may start the group
                if not (self.self_match[i] and not self.affinity_domains[i]):
                    return [AFFINITY_MSG], False
        for i, term in enumerate(self.anti):
            v = labels.get(term.get("topologyKey", ""))
            if v is not None and v in self.anti_domains[i]:
                return [ANTI_AFFINITY_MSG], True
        for (tk, v) in self.existing_anti:
            if labels.get(tk) == v:
                return [EXISTING_ANTI_MSG], True
        return None
