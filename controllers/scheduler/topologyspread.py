"""topologySpreadConstraints with whenUnsatisfiable: DoNotSchedule.

For each constraint, matching pods (its labelSelector, the pod's namespace) are
counted per topology domain over the nodes the pod could use anyway (its node
selector and required node affinity) that carry the topology key. A node is
allowed if placing the pod there keeps (count in its domain + 1) minus the
smallest domain count within maxSkew. ScheduleAnyway constraints only matter
for scoring, which is not done here.
"""
from __future__ import annotations

from ..selectors import matches_label_selector
from .nodeinfo import ClusterState
from .predicates import required_affinity_matches

SKEW_MSG = "node(s) didn't match pod topology spread constraints"
MISSING_MSG = "node(s) didn't match pod topology spread constraints (missing required label)"


class TopologySpreadCheck:
    def __init__(self, pod: dict, state: ClusterState, self_key: str):
        self.constraints = [c for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []
                            if (c.get("whenUnsatisfiable") or "DoNotSchedule") == "DoNotSchedule"]
        self.active = bool(self.constraints)
        if not self.active:
            return
        ns = pod["metadata"].get("namespace", "")
        eligible = {name: info for name, info in state.nodes.items() if required_affinity_matches(pod, info.node)}
        self.counts: list[dict[str, int]] = []
        for c in self.constraints:
            key = c.get("topologyKey", "")
            counts = {}
            for info in eligible.values():
                v = (info.node["metadata"].get("labels") or {}).get(key)
                if v is not None:
                    counts.setdefault(v, 0)
            for pkey, usage in state.usage.items():
                if pkey == self_key or usage.namespace != ns or usage.node not in eligible:
                    continue
                v = (eligible[usage.node].node["metadata"].get("labels") or {}).get(key)
                if v is not None and matches_label_selector(c.get("labelSelector"), usage.labels):
                    counts[v] += 1
            self.counts.append(counts)

    def check(self, info) -> tuple[list[str], bool] | None:
        labels = info.node["metadata"].get("labels") or {}
        for c, counts in zip(self.constraints, self.counts):
            v = labels.get(c.get("topologyKey", ""))
            if v is None:
                return [MISSING_MSG], False
            smallest = min(counts.values()) if counts else 0
            if counts.get(v, 0) + 1 - smallest > int(c.get("maxSkew") or 1):
                return [SKEW_MSG], True
        return None
