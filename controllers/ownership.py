"""Owners of pods chosen by selector (ReplicaSets, ReplicationControllers, Jobs):
which pod events concern which owner (PodOwnerTracking), the creations and
deletions an owner still waits to see (Expectations), and claiming pods as
upstream's ControllerRefManager does: a live owner adopts matching orphans (adds
itself as controller owner) and releases owned pods that stop matching; an owner being deleted does neither and
keeps what it owns, so the garbage collector finds every dependent.

`finalizers` are added to a pod on adoption and removed on release (the Job's
tracking finalizer: a released pod is no longer the Job's to count)."""
from __future__ import annotations

import time
from typing import Callable

from kubeclient import ApiError, object_key
from kubeclient.resources import PODS

from .podutil import controller_ref

EXPECTATIONS_TIMEOUT = 30.0
CONTROLLER_INDEX = "controller"  # an index of the pod informer: pods_to_claim


def controller_index(pod: dict) -> tuple[str, str | None]:
    """("uid", its controller's uid), or ("orphan", its namespace) when it has none."""
    ref = controller_ref(pod)
    return ("uid", ref.get("uid")) if ref else ("orphan", pod["metadata"].get("namespace"))


def pods_to_claim(pods, owner: dict) -> list[dict]:
    """The pods claim_pods(owner, ...) can act on, from a pod informer indexed by controller_index:
    those it controls and the orphans of its namespace (pods another owner controls it leaves
    alone). A ReplicaSet of 30 pods in a namespace of 300 looked at all 300 at every sync."""
    ns, uid = owner["metadata"].get("namespace"), owner["metadata"].get("uid")
    return [p for p in pods.by_index(CONTROLLER_INDEX, ("uid", uid)) if p["metadata"].get("namespace") == ns] + \
        pods.by_index(CONTROLLER_INDEX, ("orphan", ns))


class Expectations:
    """Per owner: how many creates and which pod deletions we still wait to see.
    Deletions are tracked by pod uid, so seeing one twice (deletionTimestamp set,
    then the object gone) counts once."""

    def __init__(self):
        self._pending: dict[str, tuple[list, set, float]] = {}  # owner key -> ([adds], {uids}, since)

    def expect(self, key: str, adds: int = 0, delete_uids: set | None = None) -> None:
        self._pending[key] = ([adds], set(delete_uids or ()), time.monotonic())

    def observe_add(self, key: str, n: int = 1) -> None:
        if key in self._pending:
            self._pending[key][0][0] -= n

    def observe_delete(self, key: str, uid: str) -> None:
        if key in self._pending:
            self._pending[key][1].discard(uid)

    def satisfied(self, key: str) -> bool:
        e = self._pending.get(key)
        return e is None or (e[0][0] <= 0 and not e[1]) or time.monotonic() - e[2] > EXPECTATIONS_TIMEOUT

    def forget(self, key: str) -> None:
        self._pending.pop(key, None)


def owner_ref(owner: dict, api_version: str, kind: str) -> dict:
    m = owner["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": m["name"], "uid": m["uid"],
            "controller": True, "blockOwnerDeletion": True}


async def claim_pods(client, owner: dict, pods: list[dict], selects: Callable[[dict | None], bool],
                     api_version: str, kind: str, finalizers: tuple[str, ...] = (), adopt: bool = True) -> list[dict]:
    """The pods `owner` controls after adopting (unless `adopt` is False) and releasing
    (those it lost a race for are left out). Any orphan not being deleted may be adopted,
    finished or not, as upstream's ClaimPods: a Job takes on (and counts) finished pods; a
    ReplicaSet passes its active pods only, as upstream filters them first."""
    uid = owner["metadata"]["uid"]
    deleting = bool(owner["metadata"].get("deletionTimestamp"))
    owned = []
    for pod in pods:
        ref = controller_ref(pod)
        matches = selects(pod["metadata"].get("labels"))
        if ref and ref.get("uid") == uid:
            if matches or deleting:
                owned.append(pod)
            else:
                await release_pod(client, pod, uid, finalizers)
        elif adopt and ref is None and matches and not deleting and not pod["metadata"].get("deletionTimestamp"):
            adopted = await adopt_pod(client, owner, pod, api_version, kind, finalizers)
            if adopted:
                owned.append(adopted)
    return owned


async def adopt_pod(client, owner: dict, pod: dict, api_version: str, kind: str,
                    finalizers: tuple[str, ...] = ()) -> dict | None:
    meta = pod["metadata"]
    refs = list(meta.get("ownerReferences") or []) + [owner_ref(owner, api_version, kind)]
    patch = {"metadata": {"ownerReferences": refs, "uid": meta["uid"], "resourceVersion": meta.get("resourceVersion")}}
    if finalizers:
        have = list(meta.get("finalizers") or [])
        patch["metadata"]["finalizers"] = have + [f for f in finalizers if f not in have]
    try:
        return await client.patch(PODS, meta["name"], patch, meta["namespace"])
    except ApiError as e:
        if e.not_found or e.conflict:
            return None  # gone, or changed under us: the next sync looks again
        raise


async def release_pod(client, pod: dict, uid: str, finalizers: tuple[str, ...] = ()) -> None:
    meta = pod["metadata"]
    refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != uid]
    patch = {"metadata": {"ownerReferences": refs or None, "uid": meta["uid"],
                          "resourceVersion": meta.get("resourceVersion")}}
    if finalizers and any(f in finalizers for f in meta.get("finalizers") or []):
        patch["metadata"]["finalizers"] = [f for f in meta["finalizers"] if f not in finalizers] or None
    try:
        await client.patch(PODS, meta["name"], patch, meta["namespace"])
    except ApiError as e:
        if not (e.not_found or e.conflict):
            raise


class PodOwnerTracking:
    """The pod event handlers such an owner's controller needs, as upstream's: an owned pod's
    events go to its owner (a new pod, or one going away, meets the owner's expectations);
    an orphan's, or a pod whose labels changed, to every owner that selects it (one of them
    may adopt it). `owner_key(pod)` names the pod's owner if it is one of this controller's,
    `selects(owner, labels)` is the owner's selector."""

    def __init__(self, owners, queue, expectations: Expectations,
                 owner_key: Callable[[dict], str | None], selects: Callable[[dict, dict | None], bool]):
        self.owners, self.queue, self.expectations = owners, queue, expectations
        self.owner_key, self.selects = owner_key, selects

    def handlers(self):
        """(on_add, on_update, on_delete) for the pod informer."""
        return self.added, self.updated, self.deleted

    def queue_selecting(self, pod: dict) -> None:
        for owner in self.owners.list(pod["metadata"]["namespace"]):
            if self.selects(owner, pod["metadata"].get("labels")):
                self.queue.add(object_key(owner))

    def added(self, pod: dict) -> None:
        key = self.owner_key(pod)
        if key:
            self.expectations.observe_add(key)
            self.queue.add(key)
        elif not controller_ref(pod):
            self.queue_selecting(pod)

    def updated(self, old: dict, new: dict) -> None:
        if old is new:
            return
        key = self.owner_key(new)
        if key and new["metadata"].get("deletionTimestamp"):
            self.expectations.observe_delete(key, new["metadata"].get("uid"))  # graceful deletion has begun
        old_key = self.owner_key(old)
        if old_key and old_key != key:
            self.queue.add(old_key)  # it lost the pod: count again
        if key:
            self.queue.add(key)
        if old["metadata"].get("labels") != new["metadata"].get("labels") or not controller_ref(new):
            self.queue_selecting(new)
            self.queue_selecting(old)

    def deleted(self, pod: dict) -> None:
        key = self.owner_key(pod)
        if key:
            self.expectations.observe_delete(key, pod["metadata"].get("uid"))
            self.queue.add(key)
