"""Claiming pods for a controller by its selector, as upstream's ControllerRefManager
does: a live owner adopts matching orphans (adds itself as controller owner) and
releases owned pods that stop matching; an owner being deleted does neither and
keeps what it owns, so the garbage collector finds every dependent.

`finalizers` are added to a pod on adoption and removed on release (the Job's
tracking finalizer: a released pod is no longer the Job's to count)."""
from __future__ import annotations

from typing import Callable

from kubeclient import ApiError
from kubeclient.resources import PODS

from .podutil import controller_ref


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
