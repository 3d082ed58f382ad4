"""DaemonSets run one pod on every eligible node.

A node is eligible when the template's nodeSelector and required node affinity
match it and its taints are tolerated, counting the tolerations upstream adds
to every daemon pod (not-ready/unreachable NoExecute, the pressure and
unschedulable NoSchedule taints). Pods are pinned to their node by a required
node affinity on metadata.name and placed by the scheduler, as upstream does.
RollingUpdate replaces out-of-date pods at most maxUnavailable at a time, or,
with maxSurge > 0, starts the new pod beside the old one (daemonsurge.py);
OnDelete waits for the user. Template history is kept in ControllerRevisions.
"""
from __future__ import annotations

import asyncio
import copy
import logging

from kubeclient import ApiError
from kubeclient.resources import CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS

from . import history
from .base import Controller
from .daemonsurge import surge_plan
from .podutil import controller_ref, is_active, pod_available, seconds_until_available
from .replication import owner_ref
from .rollout import scaled_value
from .scheduler.predicates import required_affinity_matches
from .servicepods import pod_ready
from .taints import UNSCHEDULABLE, effective_taints, tolerating

log = logging.getLogger(__name__)


def daemon_tolerations(spec: dict) -> list[dict]:
    """Upstream's AddOrUpdateDaemonPodTolerations."""
    out = [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
           {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
           {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
           {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
           {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
           {"key": UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"}]
    if spec.get("hostNetwork"):
        out.append({"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"})
    have = spec.get("tolerations") or []
    return list(have) + [t for t in out if not any(h.get("key") == t["key"] and h.get("effect") == t["effect"]
                                                   for h in have)]


def should_run(template_spec: dict, node: dict) -> bool:
    pod = {"spec": template_spec}
    if not required_affinity_matches(pod, node):
        return False
    tolerations = daemon_tolerations(template_spec)
    return all(tolerating(tolerations, t) for t in effective_taints(node)
               if t.get("effect") in ("NoSchedule", "NoExecute"))


def target_node(pod: dict) -> str | None:
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    terms = ((((spec.get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [])
    for term in terms:
        for f in term.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("operator") == "In" and len(f.get("values") or []) == 1:
                return f["values"][0]
    return None


def pin_to_node(template_spec: dict, node: str) -> dict:
    spec = copy.deepcopy(template_spec)
    affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": [node]}]}]}
    spec["tolerations"] = daemon_tolerations(spec)
    return spec


class DaemonSetController(Controller):
    name = "daemonset"
    workers = 2

    def setup(self) -> None:
        self.dss = self.ctx.informers.informer(DAEMONSETS)
        self.pods = self.ctx.informers.informer(PODS)
        self.nodes = self.ctx.informers.informer(NODES)
        self.revisions = self.ctx.informers.informer(CONTROLLERREVISIONS)
        self.recorder = self.ctx.recorder("daemonset-controller")
        self.dss.add_handler(*self.enqueue_handlers())
        self.pods.add_handler(self._pod_changed, lambda old, new: self._pod_changed(new), self._pod_changed)
        self.nodes.add_handler(self._all, lambda old, new: self._node_updated(old, new), self._all)

    def _pod_changed(self, pod: dict) -> None:
        ref = controller_ref(pod)
        if ref and ref.get("kind") == "DaemonSet":
            self.queue.add(f"{pod['metadata']['namespace']}/{ref['name']}")

    def _all(self, _node=None) -> None:
        for ds in self.dss.list():
            self.enqueue(ds)

    def _node_updated(self, old: dict, new: dict) -> None:
        if old.get("spec") != new.get("spec") or old["metadata"].get("labels") != new["metadata"].get("labels") or \
                [c.get("status") for c in (old.get("status") or {}).get("conditions") or []] != \
                [c.get("status") for c in (new.get("status") or {}).get("conditions") or []]:
            self._all()

    async def sync(self, key: str) -> None:
        ds = self.dss.get(key)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        ds = copy.deepcopy(ds)
        ns, uid, spec = ds["metadata"]["namespace"], ds["metadata"]["uid"], ds.get("spec") or {}
        revision, revisions, collisions = await history.current_revision(
            self.client, self.revisions, ds, "apps/v1", "DaemonSet")
        current_hash = revision["metadata"]["labels"][history.HASH_LABEL]
        tpl_spec = (spec.get("template") or {}).get("spec") or {}
        owned = [p for p in self.pods.list(ns) if (controller_ref(p) or {}).get("uid") == uid]
        by_node: dict[str, list[dict]] = {}
        for p in owned:
            if is_active(p) or (p.get("status") or {}).get("phase") == "Failed":
                by_node.setdefault(target_node(p) or "", []).append(p)
        create, delete, live_by_node = [], [], {}
        eligible = [n["metadata"]["name"] for n in self.nodes.list() if should_run(tpl_spec, n)]
        min_ready = int(spec.get("minReadySeconds") or 0)
        update = spec.get("updateStrategy") or {}
        rolling = update.get("type", "RollingUpdate") == "RollingUpdate"
        max_surge = scaled_value((update.get("rollingUpdate") or {}).get("maxSurge") or 0, len(eligible), True) \
            if rolling else 0
        for node in eligible:
            pods = sorted(by_node.get(node, []), key=lambda p: p["metadata"].get("creationTimestamp") or "")
            failed = [p for p in pods if (p.get("status") or {}).get("phase") == "Failed"]
            live = live_by_node[node] = [p for p in pods if p not in failed]
            delete += failed
            if not live:
                create.append(node)
            elif not max_surge:
                delete += live[1:]
        for node, pods in by_node.items():
            if node not in eligible:
                delete += [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        if max_surge:
            surge_create, surge_delete = surge_plan(
                eligible, live_by_node, lambda p: (p["metadata"].get("labels") or {}).get(history.HASH_LABEL) == current_hash,
                lambda p: pod_available(p, min_ready), max_surge)
            create += surge_create
            delete += surge_delete
        elif rolling:
            delete += self._rolling_victims(ds, eligible, by_node, current_hash, min_ready)
        await self._apply(ds, key, create, delete, current_hash)
        wait = seconds_until_available(owned, min_ready)
        if wait is not None:
            self.queue.add_after(key, wait + 0.05)
        await self._status(ds, eligible, by_node, current_hash, min_ready, collisions)
        in_use = {(p["metadata"].get("labels") or {}).get(history.HASH_LABEL) for p in owned} | {current_hash}
        keep = {r["metadata"]["name"] for r in revisions
                if (r["metadata"].get("labels") or {}).get(history.HASH_LABEL) in in_use}
        await history.prune(self.client, revisions, keep, int(spec.get("revisionHistoryLimit", 10)))

    def _rolling_victims(self, ds, eligible, by_node, current_hash, min_ready) -> list[dict]:
        ru = ((ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {})
        max_unavailable = max(scaled_value(ru.get("maxUnavailable", 1), len(eligible), True), 1)
        old_unavailable, old_available, unavailable = [], [], 0
        for node in eligible:
            live = [p for p in by_node.get(node, []) if is_active(p)]
            if not live:
                unavailable += 1
                continue
            pod = live[0]
            ok = pod_available(pod, min_ready)
            if not ok:
                unavailable += 1
            if (pod["metadata"].get("labels") or {}).get(history.HASH_LABEL) != current_hash:
                (old_available if ok else old_unavailable).append(pod)
        room = max(max_unavailable - unavailable, 0)
        return old_unavailable + old_available[:room]

    async def _apply(self, ds: dict, key: str, create: list[str], delete: list[dict], current_hash: str) -> None:
        ns = ds["metadata"]["namespace"]
        tpl = (ds["spec"].get("template") or {})
        meta = tpl.get("metadata") or {}

        def body(node: str) -> dict:
            labels = dict(meta.get("labels") or {})
            labels[history.HASH_LABEL] = current_hash
            labels["pod-template-generation"] = str(ds["metadata"].get("generation", 1))
            return {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"generateName": f"{ds['metadata']['name']}-", "namespace": ns, "labels": labels,
                                 "annotations": dict(meta.get("annotations") or {}),
                                 "ownerReferences": [owner_ref(ds, "apps/v1", "DaemonSet")]},
                    "spec": pin_to_node(tpl.get("spec") or {}, node)}
        results = await asyncio.gather(*(self.client.create(PODS, body(n), ns) for n in create), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                self.recorder.event(ds, "Warning", "FailedCreate", f"Error creating: {r}")
            else:
                self.recorder.event(ds, "Normal", "SuccessfulCreate", f"Created pod: {r['metadata']['name']}")
        seen = set()
        for p in delete:
            if p["metadata"]["uid"] in seen or p["metadata"].get("deletionTimestamp"):
                continue
            seen.add(p["metadata"]["uid"])
            try:
                await self.client.delete(PODS, p["metadata"]["name"], ns)
                self.recorder.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}")
            except ApiError as e:
                if not e.not_found:
                    raise

    async def _status(self, ds, eligible, by_node, current_hash, min_ready, collisions) -> None:
        live = {n: [p for p in ps if is_active(p)] for n, ps in by_node.items()}
        scheduled = [n for n in eligible if live.get(n)]
        first = {n: live[n][0] for n in scheduled}
        status = {
            "currentNumberScheduled": len(scheduled),
            "numberMisscheduled": sum(1 for n, ps in live.items() if ps and n not in eligible),
            "desiredNumberScheduled": len(eligible),
            "numberReady": sum(1 for p in first.values() if pod_ready(p)),
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": sum(1 for p in first.values()
                                          if (p["metadata"].get("labels") or {}).get(history.HASH_LABEL) == current_hash),
            "numberAvailable": sum(1 for p in first.values() if pod_available(p, min_ready)),
        }
        status["numberUnavailable"] = len(eligible) - status["numberAvailable"]
        status = {k: v for k, v in status.items() if v or k in ("currentNumberScheduled", "numberMisscheduled",
                                                                 "desiredNumberScheduled", "numberReady")}
        if collisions is not None:
            status["collisionCount"] = collisions
        if status != (ds.get("status") or {}):
            ds["status"] = status
            try:
                self.dss.assume(await self.client.update_status(DAEMONSETS, ds, ds["metadata"]["namespace"]))
            except ApiError as e:
                if e.conflict:
                    self.queue.add_after(f"{ds['metadata']['namespace']}/{ds['metadata']['name']}", 0.1)
                elif not e.not_found:
                    raise
