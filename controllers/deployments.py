"""Deployments roll their pod template out through ReplicaSets.

One ReplicaSet per template (named <deployment>-<pod-template-hash>); the one
matching the current template is "new", the rest are "old". RollingUpdate grows
the new one and shrinks the old ones within maxSurge/maxUnavailable (the
arithmetic is rollout.py); Recreate empties the old ones first. A change of
spec.replicas mid-rollout is spread proportionally. Rollback is a template
change like any other (kubectl writes the old template back): the matching old
ReplicaSet becomes new again and gets the next revision.
"""
from __future__ import annotations

import copy
import logging
import time

from kubeclient import ApiError, split_key
from kubeclient.resources import DEPLOYMENTS, REPLICASETS

from . import deploymentstatus, rollout
from .base import Controller
from .podutil import controller_ref
from .replication import owner_ref
from .selectors import matches_label_selector

log = logging.getLogger(__name__)
# annotations of the Deployment that are not copied onto its ReplicaSets
_NOT_COPIED = {"kubectl.kubernetes.io/last-applied-configuration", rollout.REVISION, rollout.REVISION_HISTORY,
               rollout.DESIRED_REPLICAS, rollout.MAX_REPLICAS, "deployment.kubernetes.io/revision"}


class Requeue(Exception):
    """The cache is behind a write we just made: look again shortly."""


class DeploymentController(Controller):
    name = "deployment"
    workers = 4

    def setup(self) -> None:
        self.deployments = self.ctx.informers.informer(DEPLOYMENTS)
        self.rss = self.ctx.informers.informer(REPLICASETS)
        self.recorder = self.ctx.recorder("deployment-controller")
        self.deployments.add_handler(*self.enqueue_handlers())
        self.rss.add_handler(self._rs_changed, lambda old, new: self._rs_changed(new), self._rs_changed)

    def _rs_changed(self, rs: dict) -> None:
        ref = controller_ref(rs)
        ns = rs["metadata"]["namespace"]
        if ref:
            if ref.get("kind") == "Deployment":
                self.queue.add(f"{ns}/{ref['name']}")
            return
        for d in self.deployments.list(ns):  # an orphan: whoever selects it may adopt it
            if matches_label_selector((d.get("spec") or {}).get("selector"), rs["metadata"].get("labels")):
                self.enqueue(d)

    async def sync(self, key: str) -> None:
        d = self.deployments.get(key)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        d = copy.deepcopy(d)
        try:
            await self._sync(key, d)
        except Requeue:
            self.queue.add_after(key, 0.1)

    async def _owned_replicasets(self, d: dict) -> list[dict]:
        uid, ns = d["metadata"]["uid"], d["metadata"]["namespace"]
        selector = (d.get("spec") or {}).get("selector") or {}
        owned = []
        for rs in self.rss.list(ns):
            ref = controller_ref(rs)
            if ref and ref.get("uid") == uid:
                owned.append(rs)
            elif ref is None and not rs["metadata"].get("deletionTimestamp") and \
                    matches_label_selector(selector, rs["metadata"].get("labels")) and selector:
                refs = list(rs["metadata"].get("ownerReferences") or []) + [owner_ref(d, "apps/v1", "Deployment")]
                try:
                    owned.append(await self.client.patch(REPLICASETS, rs["metadata"]["name"], {"metadata": {
                        "ownerReferences": refs, "uid": rs["metadata"]["uid"]}}, ns))
                except ApiError as e:
                    if not (e.not_found or e.conflict):
                        raise
        return owned

    async def _sync(self, key: str, d: dict) -> None:
        spec = d.get("spec") or {}
        all_rss = await self._owned_replicasets(d)
        new_rs = _find_new(d, all_rss)
        old_rss = [rs for rs in all_rss if rs is not new_rs]
        created = False
        if spec.get("paused") or rollout.is_scaling_event(d, [rs for rs in all_rss if rollout.replicas(rs) > 0]):
            await self._scale(d, new_rs, old_rss)
        else:
            if new_rs is None:
                new_rs, created = await self._create_new(d, old_rss), True
            else:
                new_rs = await self._sync_revision(d, new_rs, old_rss)
            if (spec.get("strategy") or {}).get("type") == "Recreate":
                await self._recreate(d, new_rs, old_rss)
            else:
                await self._rolling(d, new_rs, old_rss)
        all_rss = [self.rss.get(f"{d['metadata']['namespace']}/{rs['metadata']['name']}") or rs
                   for rs in ([new_rs] if new_rs else []) + old_rss]
        new_rs = all_rss[0] if new_rs else None
        await self._cleanup(d, [rs for rs in all_rss if rs is not new_rs], new_rs)
        await self._write_status(key, d, all_rss, new_rs, created)

    # --- ReplicaSets ---------------------------------------------------------
    async def _create_new(self, d: dict, old_rss: list[dict]) -> dict:
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        spec = d["spec"]
        counted = (d.get("status") or {}).get("collisionCount")  # hashed only once the status has one
        collisions = int(counted or 0)
        template = rollout.template_without_hash(spec.get("template") or {})
        h = rollout.template_hash(template, counted)
        template.setdefault("metadata", {}).setdefault("labels", {})[rollout.HASH_LABEL] = h
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[rollout.HASH_LABEL] = h
        annotations = self._copied_annotations(d)
        annotations[rollout.REVISION] = str(rollout.max_revision(old_rss) + 1)
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": f"{name}-{h}", "namespace": ns,
                           "labels": dict(template["metadata"]["labels"]), "annotations": annotations,
                           "ownerReferences": [owner_ref(d, "apps/v1", "Deployment")]},
              "spec": {"replicas": 0, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                       "selector": selector, "template": template}}
        size = rollout.new_rs_replicas(d, old_rss + [rs], rs)
        if (spec.get("strategy") or {}).get("type") == "Recreate" and any(rollout.replicas(o) for o in old_rss):
            size = 0  # Recreate: nothing new until the old pods are gone
        rs["spec"]["replicas"] = size
        self._size_annotations(d, rs)
        try:
            created = await self.client.create(REPLICASETS, rs, ns)
        except ApiError as e:
            if e.already_exists:
                existing = self.rss.get(f"{ns}/{rs['metadata']['name']}")
                if existing is None or not rollout.same_template(existing["spec"]["template"], template):
                    # a hash collision: count it so the next hash differs (upstream's collisionCount)
                    d.setdefault("status", {})["collisionCount"] = collisions + 1
                    await self._put_status(d)
                raise Requeue() from None
            raise
        self.rss.assume(created)
        self.recorder.event(d, "Normal", "ScalingReplicaSet",
                            f"Scaled up replica set {created['metadata']['name']} from 0 to {size}")
        d.setdefault("metadata", {}).setdefault("annotations", {})[rollout.REVISION] = annotations[rollout.REVISION]
        await self._put_revision(d)
        return created

    def _copied_annotations(self, d: dict) -> dict:
        return {k: v for k, v in ((d["metadata"].get("annotations") or {}).items()) if k not in _NOT_COPIED}

    def _size_annotations(self, d: dict, rs: dict) -> None:
        surge, _ = rollout.surge_and_unavailable(d)
        desired = int(d["spec"].get("replicas", 1))
        ann = rs["metadata"].setdefault("annotations", {})
        ann[rollout.DESIRED_REPLICAS] = str(desired)
        ann[rollout.MAX_REPLICAS] = str(desired + surge)

    async def _sync_revision(self, d: dict, new_rs: dict, old_rss: list[dict]) -> dict:
        """The new ReplicaSet carries the highest revision (a rollback makes an old one new
        again: it takes the next number and remembers its earlier ones) and the Deployment's
        annotations; the Deployment carries the same revision."""
        rs = copy.deepcopy(new_rs)
        ann = rs["metadata"].setdefault("annotations", {})
        current, top = rollout.revision(rs), rollout.max_revision(old_rss)
        if current <= top:
            ann[rollout.REVISION_HISTORY] = ",".join(filter(None, [ann.get(rollout.REVISION_HISTORY), str(current)]))
            ann[rollout.REVISION] = str(top + 1)
        ann.update(self._copied_annotations(d))
        if (int(rs["spec"].get("minReadySeconds") or 0) != int(d["spec"].get("minReadySeconds") or 0)):
            rs["spec"]["minReadySeconds"] = int(d["spec"].get("minReadySeconds") or 0)
        if rs != new_rs:
            rs = await self._put_rs(rs)
        if (d["metadata"].get("annotations") or {}).get(rollout.REVISION) != ann[rollout.REVISION]:
            d["metadata"].setdefault("annotations", {})[rollout.REVISION] = ann[rollout.REVISION]
            await self._put_revision(d)
        return rs

    async def _put_rs(self, rs: dict) -> dict:
        try:
            stored = await self.client.update(REPLICASETS, rs, rs["metadata"]["namespace"])
        except ApiError as e:
            if e.conflict or e.not_found:
                raise Requeue() from None
            raise
        self.rss.assume(stored)
        return stored

    async def _scale_rs(self, d: dict, rs: dict, size: int) -> dict:
        before = rollout.replicas(rs)
        rs = copy.deepcopy(rs)
        rs["spec"]["replicas"] = size
        self._size_annotations(d, rs)
        stored = await self._put_rs(rs)
        if before != size:
            verb = "up" if size > before else "down"
            self.recorder.event(d, "Normal", "ScalingReplicaSet",
                                f"Scaled {verb} replica set {rs['metadata']['name']} from {before} to {size}")
        return stored

    async def _put_revision(self, d: dict) -> None:
        ann = {rollout.REVISION: d["metadata"]["annotations"][rollout.REVISION]}
        try:
            stored = await self.client.patch(DEPLOYMENTS, d["metadata"]["name"], {"metadata": {"annotations": ann}},
                                             d["metadata"]["namespace"])
            self.deployments.assume(stored)
            d["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        except ApiError as e:
            if not e.not_found:
                raise

    # --- strategies ------------------------------------------------------------
    async def _rolling(self, d: dict, new_rs: dict, old_rss: list[dict]) -> None:
        all_rss = [new_rs] + old_rss
        size = rollout.new_rs_replicas(d, all_rss, new_rs)
        if size != rollout.replicas(new_rs) or _stale_size_annotations(d, new_rs):
            new_rs = await self._scale_rs(d, new_rs, size)
            return  # one step per sync: the next one sees the cache with this write
        for name, size in rollout.old_scale_down(d, all_rss, old_rss, new_rs).items():
            rs = next(r for r in old_rss if r["metadata"]["name"] == name)
            await self._scale_rs(d, rs, size)

    async def _recreate(self, d: dict, new_rs: dict, old_rss: list[dict]) -> None:
        for rs in old_rss:
            if rollout.replicas(rs):
                await self._scale_rs(d, rs, 0)
        if any(int((rs.get("status") or {}).get("replicas") or 0) for rs in old_rss) or \
                any(rollout.replicas(rs) for rs in old_rss):
            return  # old pods still there: Recreate waits for them to go
        desired = int(d["spec"].get("replicas", 1))
        if rollout.replicas(new_rs) != desired or _stale_size_annotations(d, new_rs):
            await self._scale_rs(d, new_rs, desired)

    async def _scale(self, d: dict, new_rs: dict | None, old_rss: list[dict]) -> None:
        """A replicas change (or a paused Deployment): resize, never roll out."""
        desired = int(d["spec"].get("replicas", 1))
        active = [rs for rs in ([new_rs] if new_rs else []) + old_rss if rollout.replicas(rs) > 0]
        if new_rs is not None and not active:
            active = [new_rs]
        if len(active) == 1:
            if rollout.replicas(active[0]) != desired or _stale_size_annotations(d, active[0]):
                await self._scale_rs(d, active[0], desired)
            return
        if not active:
            return
        if new_rs is not None and rollout.replicas(new_rs) == desired and rollout.available(new_rs) == desired:
            for rs in old_rss:
                if rollout.replicas(rs):
                    await self._scale_rs(d, rs, 0)
            return
        sizes = rollout.proportional_sizes(d, active, new_rs)
        for rs in active:
            if rs["metadata"]["name"] in sizes or _stale_size_annotations(d, rs):
                await self._scale_rs(d, rs, sizes.get(rs["metadata"]["name"], rollout.replicas(rs)))

    async def _cleanup(self, d: dict, old_rss: list[dict], new_rs: dict | None) -> None:
        if new_rs is None or d["spec"].get("paused"):
            return
        limit = int(d["spec"].get("revisionHistoryLimit", 10))
        for rs in rollout.history_to_delete(old_rss, limit):
            try:
                await self.client.delete(REPLICASETS, rs["metadata"]["name"], rs["metadata"]["namespace"],
                                         preconditions={"uid": rs["metadata"]["uid"]})
            except ApiError as e:
                if not (e.not_found or e.conflict):
                    raise

    # --- status -------------------------------------------------------------------
    async def _write_status(self, key: str, d: dict, all_rss: list[dict], new_rs: dict | None, created: bool) -> None:
        now = time.time()
        status = deploymentstatus.compute(d, all_rss, new_rs, now, created)
        wait = deploymentstatus.seconds_to_deadline(d, status, now)
        if wait is not None:
            self.queue.add_after(key, wait)
        if status != (d.get("status") or {}):
            d["status"] = status
            await self._put_status(d)

    async def _put_status(self, d: dict) -> None:
        try:
            self.deployments.assume(await self.client.update_status(DEPLOYMENTS, d, d["metadata"]["namespace"]))
        except ApiError as e:
            if e.conflict:
                raise Requeue() from None
            if not e.not_found:
                raise


def _find_new(d: dict, rss: list[dict]) -> dict | None:
    template = (d.get("spec") or {}).get("template") or {}
    matching = [rs for rs in rss if rollout.same_template((rs.get("spec") or {}).get("template") or {}, template)]
    matching.sort(key=lambda rs: (rs["metadata"].get("creationTimestamp") or "", rs["metadata"]["name"]))
    return matching[0] if matching else None


def _stale_size_annotations(d: dict, rs: dict) -> bool:
    ann = rs["metadata"].get("annotations") or {}
    return ann.get(rollout.DESIRED_REPLICAS) != str(d["spec"].get("replicas", 1))


__all__ = ["DeploymentController", "split_key"]
