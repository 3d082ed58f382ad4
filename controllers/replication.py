"""ReplicationControllers keep `spec.replicas` pods running.

Pods are matched by the RC's selector; the RC adopts matching orphans (adds
itself as controller owner) and releases owned pods that stop matching. Creates
and deletes are remembered as expectations until the pod watch confirms them, so
a sync never acts twice on the same shortfall because its cache is behind.
"""
from __future__ import annotations

import asyncio
import logging
import time

from kubeclient import ApiError, split_key
from kubeclient.timestamps import epoch_time
from kubeclient.resources import PODS, REPLICATIONCONTROLLERS

from .base import Controller
from .ownership import CONTROLLER_INDEX, Expectations, PodOwnerTracking, claim_pods, controller_index, owner_ref, \
    pods_to_claim
from .podutil import controller_ref, deletion_rank, is_active, pod_available, seconds_until_available
from .selectors import matches_labels
from .servicepods import pod_ready

log = logging.getLogger(__name__)
BURST = 100  # at most this many creates or deletes per sync, like upstream's burst replicas


def pod_from_template(rc: dict, api_version: str = "v1", kind: str = "ReplicationController") -> dict:
    tpl = (rc.get("spec") or {}).get("template") or {}
    meta = tpl.get("metadata") or {}
    m = rc["metadata"]
    owner = owner_ref(rc, api_version, kind)
    metadata = {"generateName": f"{m['name']}-", "namespace": m["namespace"], "ownerReferences": [owner]}
    for field in ("labels", "annotations"):
        if meta.get(field):
            metadata[field] = dict(meta[field])
    if meta.get("finalizers"):
        metadata["finalizers"] = list(meta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": tpl.get("spec") or {}}


def compute_status(rc: dict, active: list[dict], now: float | None = None) -> dict:
    tpl_labels = (((rc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
    ready = [p for p in active if pod_ready(p)]
    min_ready = int((rc.get("spec") or {}).get("minReadySeconds") or 0)
    available = [p for p in ready if pod_available(p, min_ready, now)]
    status = dict(rc.get("status") or {})
    status.update({
        "replicas": len(active),
        "fullyLabeledReplicas": sum(1 for p in active if all(
            (p["metadata"].get("labels") or {}).get(k) == v for k, v in tpl_labels.items())),
        "readyReplicas": len(ready),
        "availableReplicas": len(available),
        "observedGeneration": rc["metadata"].get("generation", 1),
    })
    for k in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
        if not status[k]:
            status.pop(k)  # upstream omits zero counts
    return status


def with_replica_failure(status: dict, failed: ApiError | None, now: float | None = None) -> dict:
    """The ReplicaFailure condition as upstream keeps it: set (reason FailedCreate, the
    API's message) when creating pods failed and it is not set yet; dropped once a sync
    gets through without failing."""
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
    present = len(conditions) != len(status.get("conditions") or [])
    if failed is not None and not present:
        conditions.append({"type": "ReplicaFailure", "status": "True",
                           "lastTransitionTime": epoch_time(now if now is not None else time.time()),
                           "reason": "FailedCreate", "message": failed.message or str(failed)})
    elif failed is not None:
        return status
    status = dict(status)
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    return status


class ReplicationManager(Controller):
    """Also the ReplicaSet controller (replicasets.py): the two differ only in
    resource, kind and selector shape, which these attributes and `selects` name."""
    name = "replicationcontroller"
    workers = 4
    resource = REPLICATIONCONTROLLERS
    kind = "ReplicationController"
    api_version = "v1"
    component = "replication-controller"

    def selects(self, owner: dict, labels: dict | None) -> bool:
        return matches_labels((owner.get("spec") or {}).get("selector"), labels)

    def setup(self) -> None:
        self.rcs = self.ctx.informers.informer(self.resource)
        self.pods = self.ctx.informers.informer(PODS)
        self.pods.add_index(CONTROLLER_INDEX, controller_index)
        self.expectations = Expectations()
        self.recorder = self.ctx.recorder(self.component)
        self.rcs.add_handler(*self.enqueue_handlers())
        self.pods.add_handler(*PodOwnerTracking(self.rcs, self.queue, self.expectations, self._owner_key,
                                                self.selects).handlers())

    def _owner_key(self, pod: dict) -> str | None:
        """The key of the live owner (same uid) that controls the pod, if it is one of ours."""
        ref = controller_ref(pod)
        if ref and ref.get("kind") == self.kind:
            key = f"{pod['metadata']['namespace']}/{ref['name']}"
            rc = self.rcs.get(key)
            if rc and rc["metadata"].get("uid") == ref.get("uid"):
                return key
        return None

    async def sync(self, key: str) -> None:
        ns, name = split_key(key)
        rc = self.rcs.get(key)
        if rc is None:
            self.expectations.forget(key)
            return
        deleting = bool(rc["metadata"].get("deletionTimestamp"))
        # only active pods are claimed (upstream's FilterActivePods first): a finished pod is nobody's replica
        owned = await claim_pods(self.client, rc, [p for p in pods_to_claim(self.pods, rc) if is_active(p)],
                                 lambda labels: self.selects(rc, labels),
                                 self.api_version, self.kind)
        active = [p for p in owned if is_active(p)]
        failed: ApiError | None = None
        if self.expectations.satisfied(key) and not deleting:
            diff = len(active) - int((rc.get("spec") or {}).get("replicas", 1))
            try:
                if diff < 0:
                    await self._create(rc, key, min(-diff, BURST))
                elif diff > 0:
                    victims = sorted(active, key=deletion_rank)[:min(diff, BURST)]
                    await self._delete(rc, key, victims)
            except ApiError as e:
                failed = e  # shown in the status first, then retried with back-off
        status = with_replica_failure(compute_status(rc, active), failed)
        wait = seconds_until_available(active, int((rc.get("spec") or {}).get("minReadySeconds") or 0))
        if wait is not None:
            self.queue.add_after(key, wait + 0.05)  # a ready pod becomes available then
        if status != (rc.get("status") or {}):
            fresh = dict(rc, status=status)
            try:
                self.rcs.assume(await self.client.update_status(self.resource, fresh, ns))
            except ApiError as e:
                if e.conflict:
                    self.queue.add_after(key, 0.05)  # the cache will catch up; try again
                elif not e.not_found:
                    raise
        if failed is not None:
            raise failed

    async def _create(self, rc: dict, key: str, n: int) -> None:
        self.expectations.expect(key, adds=n)
        body = pod_from_template(rc, self.api_version, self.kind)
        results = await asyncio.gather(*(self.client.create(PODS, body, rc["metadata"]["namespace"])
                                         for _ in range(n)), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        for r in results:
            if not isinstance(r, BaseException):
                self.recorder.event(rc, "Normal", "SuccessfulCreate", f"Created pod: {r['metadata']['name']}")
        if failed:
            self.expectations.observe_add(key, len(failed))
            self.recorder.event(rc, "Warning", "FailedCreate", f"Error creating: {failed[0]}")
            raise failed[0] if isinstance(failed[0], ApiError) else RuntimeError(str(failed[0]))

    async def _delete(self, rc: dict, key: str, pods: list[dict]) -> None:
        self.expectations.expect(key, delete_uids={p["metadata"].get("uid") for p in pods})
        results = await asyncio.gather(*(self.client.delete(PODS, p["metadata"]["name"], p["metadata"]["namespace"])
                                         for p in pods), return_exceptions=True)
        for pod, r in zip(pods, results):
            if isinstance(r, BaseException):
                self.expectations.observe_delete(key, pod["metadata"].get("uid"))
                if not (isinstance(r, ApiError) and r.not_found):
                    log.warning("deleting %s failed: %s", pod["metadata"]["name"], r)
            else:
                self.recorder.event(rc, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
