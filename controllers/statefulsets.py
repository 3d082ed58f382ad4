"""StatefulSets run pods with stable names <set>-0 ... <set>-(n-1).

OrderedReady brings ordinal i up only once every lower one is Running and
Ready, and scales down from the highest ordinal, one pod at a time; Parallel
acts on all at once. RollingUpdate replaces pods whose revision is out of date,
highest ordinal first, one at a time and only ordinals >= partition; OnDelete
leaves that to the user. volumeClaimTemplates become volumes naming the claim
<template>-<pod>; the claims themselves are created when the API serves them, and
carry the owners persistentVolumeClaimRetentionPolicy asks for (claimretention.py).
"""
from __future__ import annotations

import copy
import logging

from kubeclient import ApiError
from kubeclient.resources import CONTROLLERREVISIONS, PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS

from . import history
from .base import Controller
from .claimretention import claim_owners
from .podutil import controller_ref, pod_available, seconds_until_available
from .replication import owner_ref
from .servicepods import pod_ready

log = logging.getLogger(__name__)
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def ordinal_of(sts_name: str, pod_name: str) -> int | None:
    prefix = sts_name + "-"
    if not pod_name.startswith(prefix) or not pod_name[len(prefix):].isdigit():
        return None
    return int(pod_name[len(prefix):])


def _running_ready(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and pod_ready(pod)


def template_of(revision: dict) -> dict:
    """The pod template a ControllerRevision recorded (history.revision_data's patch)."""
    tpl = copy.deepcopy((((revision.get("data") or {}).get("spec") or {}).get("template")) or {})
    tpl.pop("$patch", None)
    return tpl


def pod_for(sts: dict, ordinal: int, revision: str, template: dict | None = None) -> dict:
    """Ordinal's pod from `template` (default: the set's own), labelled with the revision's name."""
    spec, name = sts.get("spec") or {}, sts["metadata"]["name"]
    tpl = copy.deepcopy(template if template is not None else spec.get("template") or {})
    meta = tpl.get("metadata") or {}
    pod_name = f"{name}-{ordinal}"
    labels = dict(meta.get("labels") or {})
    labels.update({history.HASH_LABEL: revision, POD_NAME_LABEL: pod_name, POD_INDEX_LABEL: str(ordinal)})
    pod_spec = tpl.get("spec") or {}
    pod_spec["hostname"] = pod_name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    volumes = [v for v in pod_spec.get("volumes") or []]
    for claim in spec.get("volumeClaimTemplates") or []:
        cname = (claim.get("metadata") or {}).get("name", "")
        volumes = [v for v in volumes if v.get("name") != cname]
        volumes.append({"name": cname, "persistentVolumeClaim": {"claimName": f"{cname}-{pod_name}"}})
    if volumes:
        pod_spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name, "namespace": sts["metadata"]["namespace"], "labels": labels,
                         "annotations": dict(meta.get("annotations") or {}),
                         "ownerReferences": [owner_ref(sts, "apps/v1", "StatefulSet")]},
            "spec": pod_spec}


class StatefulSetController(Controller):
    name = "statefulset"
    workers = 2

    def setup(self) -> None:
        self.sets = self.ctx.informers.informer(STATEFULSETS)
        self.pods = self.ctx.informers.informer(PODS)
        self.revisions = self.ctx.informers.informer(CONTROLLERREVISIONS)
        self.claims = self.ctx.informers.informer(PERSISTENTVOLUMECLAIMS)
        self.recorder = self.ctx.recorder("statefulset-controller")
        self.sets.add_handler(*self.enqueue_handlers())
        self.pods.add_handler(self._pod_changed, lambda old, new: self._pod_changed(new), self._pod_changed)

    def _pod_changed(self, pod: dict) -> None:
        ref = controller_ref(pod)
        if ref and ref.get("kind") == "StatefulSet":
            self.queue.add(f"{pod['metadata']['namespace']}/{ref['name']}")

    async def sync(self, key: str) -> None:
        sts = self.sets.get(key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        sts = copy.deepcopy(sts)
        spec, ns, uid = sts.get("spec") or {}, sts["metadata"]["namespace"], sts["metadata"]["uid"]
        revision, revisions, collisions = await history.current_revision(
            self.client, self.revisions, sts, "apps/v1", "StatefulSet")
        update_rev = revision["metadata"]["name"]  # pods carry the whole name in controller-revision-hash
        current_name = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if r["metadata"]["name"] == current_name), None) or revision
        pods: dict[int, dict] = {}
        for p in self.pods.list(ns):
            if (controller_ref(p) or {}).get("uid") == uid:
                i = ordinal_of(sts["metadata"]["name"], p["metadata"]["name"])
                if i is not None:
                    pods[i] = p
        replicas = int(spec.get("replicas", 1))
        parallel = spec.get("podManagementPolicy") == "Parallel"
        min_ready = int(spec.get("minReadySeconds") or 0)
        await self._claim_owners(sts, pods, replicas)  # before any pod is scaled away
        await self._reconcile(sts, pods, replicas, parallel, update_rev, current)
        wait = seconds_until_available(list(pods.values()), min_ready)
        if wait is not None:
            self.queue.add_after(key, wait + 0.05)
        await self._status(sts, pods, update_rev, min_ready, collisions)
        in_use = {(p["metadata"].get("labels") or {}).get(history.HASH_LABEL) for p in pods.values()} | \
            {update_rev, current["metadata"]["name"]}
        await history.prune(self.client, revisions, in_use, int(spec.get("revisionHistoryLimit", 10)))

    async def _reconcile(self, sts: dict, pods: dict[int, dict], replicas: int, parallel: bool, update_rev: str,
                         current: dict) -> None:
        spec = sts.get("spec") or {}
        update = spec.get("updateStrategy") or {}
        rolling = update.get("type", "RollingUpdate") == "RollingUpdate"
        partition = int((update.get("rollingUpdate") or {}).get("partition") or 0) if rolling else 0
        for i in range(replicas):  # 1. failed pods are replaced; missing ones created in order
            pod = pods.get(i)
            if pod is not None and (pod.get("status") or {}).get("phase") == "Failed" and \
                    not pod["metadata"].get("deletionTimestamp"):
                await self._delete(sts, pod)
                if not parallel:
                    return
                continue
            if pod is None:
                await self._claims(sts, i)
                if i < partition:  # below the partition a pod comes back at the current revision
                    await self._create(sts, i, current["metadata"]["name"], template_of(current))
                else:
                    await self._create(sts, i, update_rev)
                if not parallel:
                    return
            elif not parallel and (pod["metadata"].get("deletionTimestamp") or not _running_ready(pod)):
                return  # OrderedReady: wait for this one before the next
        extra = sorted((i for i in pods if i >= replicas), reverse=True)  # 2. scale down, highest first
        # OrderedReady deletes an unhealthy pod only when it is the lowest unhealthy one (upstream's rule):
        # scaling down halts while any other pod is unhealthy
        first_unhealthy = min((j for j, p in pods.items() if not _running_ready(p)), default=None)
        for i in extra:
            if pods[i]["metadata"].get("deletionTimestamp"):
                if not parallel:
                    return
                continue
            if not parallel and not _running_ready(pods[i]) and i != first_unhealthy:
                return
            await self._delete(sts, pods[i])
            if not parallel:
                return
        if extra:
            return
        if not rolling:
            return
        if not all(_running_ready(pods[i]) and not pods[i]["metadata"].get("deletionTimestamp")
                   for i in range(replicas) if i in pods):
            return  # 3. rolling update: one at a time, only while everything is healthy
        for i in sorted(range(partition, replicas), reverse=True):
            pod = pods.get(i)
            if pod and (pod["metadata"].get("labels") or {}).get(history.HASH_LABEL) != update_rev:
                await self._delete(sts, pod)
                return

    async def _create(self, sts: dict, i: int, revision: str, template: dict | None = None) -> None:
        body = pod_for(sts, i, revision, template)
        try:
            created = await self.client.create(PODS, body, sts["metadata"]["namespace"])
        except ApiError as e:
            if e.already_exists:
                return
            self.recorder.event(sts, "Warning", "FailedCreate",
                                f"create Pod {body['metadata']['name']} in StatefulSet {sts['metadata']['name']} "
                                f"failed error: {e}")
            raise
        self.pods.assume(created)
        self.recorder.event(sts, "Normal", "SuccessfulCreate",
                            f"create Pod {body['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful")

    async def _delete(self, sts: dict, pod: dict) -> None:
        try:
            await self.client.delete(PODS, pod["metadata"]["name"], pod["metadata"]["namespace"],
                                     preconditions={"uid": pod["metadata"]["uid"]})
        except ApiError as e:
            if not (e.not_found or e.conflict):
                raise
            return
        self.recorder.event(sts, "Normal", "SuccessfulDelete",
                            f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful")

    async def _claims(self, sts: dict, i: int) -> None:
        """Create the ordinal's PersistentVolumeClaims (skipped while the API does not serve them)."""
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        for claim in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            meta = claim.get("metadata") or {}
            body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": f"{meta.get('name', '')}-{name}-{i}", "namespace": ns,
                                 "labels": dict(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})},
                    "spec": copy.deepcopy(claim.get("spec") or {})}
            try:
                await self.client.create(PERSISTENTVOLUMECLAIMS, body, ns)
            except ApiError as e:
                if not (e.already_exists or e.not_found):
                    raise

    async def _claim_owners(self, sts: dict, pods: dict[int, dict], replicas: int) -> None:
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        for i, pod in pods.items():
            for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
                claim = self.claims.get(f"{ns}/{(template.get('metadata') or {}).get('name', '')}-{name}-{i}")
                if claim is None:
                    continue
                refs = claim["metadata"].get("ownerReferences") or []
                want = claim_owners(refs, sts, pod, scaled_away=i >= replicas)
                if want == refs:
                    continue
                patch = {"metadata": {"ownerReferences": want or None,
                                      "resourceVersion": claim["metadata"]["resourceVersion"]}}
                try:
                    self.claims.assume(await self.client.patch(PERSISTENTVOLUMECLAIMS, claim["metadata"]["name"],
                                                               patch, ns))
                except ApiError as e:
                    if not e.not_found:  # a conflict too: no pod is scaled away before its claim is right
                        raise

    async def _status(self, sts, pods, update_rev, min_ready, collisions) -> None:
        live = [p for p in pods.values() if not p["metadata"].get("deletionTimestamp")]
        revs = [(p["metadata"].get("labels") or {}).get(history.HASH_LABEL) for p in live]
        old = sts.get("status") or {}
        current = old.get("currentRevision") or update_rev
        updated = sum(1 for r in revs if r == update_rev)
        if updated == int((sts.get("spec") or {}).get("replicas", 1)) and len(live) == updated and \
                all(pod_ready(p) for p in live):
            current = update_rev  # the update is complete: it is the current revision now
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(live),
                  "readyReplicas": sum(1 for p in live if pod_ready(p)),
                  "availableReplicas": sum(1 for p in live if pod_available(p, min_ready)),
                  "currentReplicas": sum(1 for r in revs if r == current), "updatedReplicas": updated,
                  "currentRevision": current, "updateRevision": update_rev,
                  "collisionCount": collisions or 0}
        status = {k: v for k, v in status.items() if v or k in ("replicas", "availableReplicas", "collisionCount")}
        if status != old:
            sts["status"] = status
            try:
                self.sets.assume(await self.client.update_status(STATEFULSETS, sts, sts["metadata"]["namespace"]))
            except ApiError as e:
                if e.conflict:
                    self.queue.add_after(f"{sts['metadata']['namespace']}/{sts['metadata']['name']}", 0.1)
                elif not e.not_found:
                    raise
