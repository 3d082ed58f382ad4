"""PodDisruptionBudget status: how many selected pods are healthy, how many must
stay healthy, and so how many voluntary disruptions (evictions) are allowed now.

minAvailable as a number counts the selected pods; a percentage or
maxUnavailable is taken of the pods' controllers' desired scale, as upstream.
The API server's eviction subresource reads disruptionsAllowed and lowers it.
"""
from __future__ import annotations

import copy
import math
import time

from kubeclient import ApiError
from kubeclient.resources import (DEPLOYMENTS, PODDISRUPTIONBUDGETS, PODS, REPLICASETS, REPLICATIONCONTROLLERS,
                                  STATEFULSETS)
from kubeclient.timestamps import epoch_time, parse_time

from .base import Controller
from .podutil import controller_ref
from .selectors import matches_label_selector
from .servicepods import pod_ready

DISRUPTED_POD_TIMEOUT = 120.0  # an eviction the pod did not follow is forgotten after this


def _scaled(value, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def budget(spec: dict, selected: int, expected_scale: int | None) -> tuple[int, int] | None:
    """(expectedPods, desiredHealthy); None when the scale is needed but unknown."""
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    if max_unavailable is not None:
        if expected_scale is None:
            return None
        return expected_scale, max(expected_scale - _scaled(max_unavailable, expected_scale, True), 0)
    if isinstance(min_available, str) and min_available.endswith("%"):
        if expected_scale is None:
            return None
        return expected_scale, _scaled(min_available, expected_scale, True)
    return selected, int(min_available if min_available is not None else 1)


class DisruptionController(Controller):
    name = "disruption"
    workers = 2
    _SCALABLE = {"ReplicaSet": REPLICASETS, "ReplicationController": REPLICATIONCONTROLLERS,
                 "StatefulSet": STATEFULSETS, "Deployment": DEPLOYMENTS}

    def setup(self) -> None:
        self.pdbs = self.ctx.informers.informer(PODDISRUPTIONBUDGETS)
        self.pods = self.ctx.informers.informer(PODS)
        self.owners = {kind: self.ctx.informers.informer(res) for kind, res in self._SCALABLE.items()}
        self.recorder = self.ctx.recorder("controllermanager")
        self.pdbs.add_handler(*self.enqueue_handlers())
        self.pods.add_handler(self._pod_changed, lambda old, new: (self._pod_changed(old), self._pod_changed(new)),
                              self._pod_changed)
        for kind in ("ReplicaSet", "ReplicationController", "StatefulSet", "Deployment"):
            self.owners[kind].add_handler(self._owner_changed, lambda old, new: self._owner_changed(new),
                                          self._owner_changed)

    def _pod_changed(self, pod: dict) -> None:
        for pdb in self.pdbs.list(pod["metadata"]["namespace"]):
            if matches_label_selector((pdb.get("spec") or {}).get("selector"), pod["metadata"].get("labels")):
                self.enqueue(pdb)

    def _owner_changed(self, obj: dict) -> None:
        for pdb in self.pdbs.list(obj["metadata"]["namespace"]):
            self.enqueue(pdb)

    def _scale_of(self, ns: str, ref: dict) -> int | None:
        inf = self.owners.get(ref.get("kind"))
        owner = inf.get(f"{ns}/{ref.get('name')}") if inf else None
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        parent = controller_ref(owner)
        if ref.get("kind") == "ReplicaSet" and parent and parent.get("kind") == "Deployment":
            return self._scale_of(ns, parent)  # a Deployment's scale, not its ReplicaSet's
        return int((owner.get("spec") or {}).get("replicas", 1))

    async def sync(self, key: str) -> None:
        pdb = self.pdbs.get(key)
        if pdb is None:
            return
        pdb = copy.deepcopy(pdb)
        ns, spec, now = pdb["metadata"]["namespace"], pdb.get("spec") or {}, time.time()
        selector = spec.get("selector")
        pods = [p for p in self.pods.list(ns) if selector is not None
                and matches_label_selector(selector, p["metadata"].get("labels"))]
        scale: int | None = 0
        seen: set[str] = set()
        for p in pods:
            ref = controller_ref(p)
            if ref is None:
                scale = None
                break
            owner_scale = self._scale_of(ns, ref)
            if owner_scale is None:
                scale = None
                break
            uid = ref.get("uid")
            if ref.get("kind") == "ReplicaSet":
                rs = self.owners["ReplicaSet"].get(f"{ns}/{ref.get('name')}")
                parent = controller_ref(rs) if rs else None
                uid = parent.get("uid") if parent and parent.get("kind") == "Deployment" else uid
            if uid not in seen:
                seen.add(uid)
                scale += owner_scale
        old = pdb.get("status") or {}
        disrupted = {name: ts for name, ts in (old.get("disruptedPods") or {}).items()
                     if (parse_time(ts) or 0) + DISRUPTED_POD_TIMEOUT > now
                     and any(p["metadata"]["name"] == name and not p["metadata"].get("deletionTimestamp") for p in pods)}
        healthy = sum(1 for p in pods if pod_ready(p) and not p["metadata"].get("deletionTimestamp")
                      and p["metadata"]["name"] not in disrupted)
        b = budget(spec, len(pods), scale)
        if b is None:
            self.recorder.event(pdb, "Warning", "NoControllers",
                                "found no controllers for pods selected by this budget (or their scale is unknown)")
            expected, desired = len(pods), len(pods)
        else:
            expected, desired = b
        allowed = max(healthy - desired, 0)
        status = {"observedGeneration": pdb["metadata"].get("generation", 1), "disruptionsAllowed": allowed,
                  "currentHealthy": healthy, "desiredHealthy": desired, "expectedPods": expected}
        if disrupted:
            status["disruptedPods"] = disrupted
            self.queue.add_after(key, DISRUPTED_POD_TIMEOUT)
        cond = {"type": "DisruptionAllowed", "status": "True" if allowed > 0 else "False",
                "reason": "SufficientPods" if allowed > 0 else "InsufficientPods", "message": "",
                "observedGeneration": status["observedGeneration"]}
        prev = next((c for c in old.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), None)
        cond["lastTransitionTime"] = prev["lastTransitionTime"] if prev and prev.get("status") == cond["status"] \
            else epoch_time(now)
        status["conditions"] = [cond]
        if status != old:
            pdb["status"] = status
            try:
                self.pdbs.assume(await self.client.update_status(PODDISRUPTIONBUDGETS, pdb, ns))
            except ApiError as e:
                if e.conflict:
                    self.queue.add_after(key, 0.1)
                elif not e.not_found:
                    raise
