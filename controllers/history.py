"""ControllerRevisions: the template history of DaemonSets and StatefulSets.

A revision stores the pod template as upstream does (a patch that replaces the
template), is named <owner>-<hash> (hashing.py: upstream's format, the owner's
collisionCount in the hash) and numbered, and carries the hash in its
controller-revision-hash label. A DaemonSet's pods carry that hash, a
StatefulSet's the whole revision name, as upstream's do.
"""
from __future__ import annotations

import copy

from kubeclient import ApiError
from kubeclient.resources import CONTROLLERREVISIONS

from . import hashing
from .podutil import controller_ref
from .replication import owner_ref

HASH_LABEL = "controller-revision-hash"


def revision_data(owner: dict) -> dict:
    tpl = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    tpl["$patch"] = "replace"
    return {"spec": {"template": tpl}}


def collision_count(owner: dict) -> int | None:
    value = (owner.get("status") or {}).get("collisionCount")
    return None if value is None else int(value)


def owned_revisions(informer, owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return sorted((r for r in informer.list(owner["metadata"]["namespace"])
                   if (controller_ref(r) or {}).get("uid") == uid), key=lambda r: int(r.get("revision") or 0))


async def current_revision(client, informer, owner: dict, api_version: str,
                           kind: str) -> tuple[dict, list[dict], int | None]:
    """(the revision of the owner's template, creating or renumbering it; all owned
    revisions; the owner's collisionCount, raised past any name taken by other data)."""
    revisions = owned_revisions(informer, owner)
    data = revision_data(owner)
    top = max((int(r.get("revision") or 0) for r in revisions), default=0)
    ns = owner["metadata"]["namespace"]
    existing = next((r for r in reversed(revisions) if r.get("data") == data), None)
    collisions = collision_count(owner)
    if existing is not None:
        if int(existing.get("revision") or 0) < top:  # a rollback: the old template is newest again
            existing = copy.deepcopy(existing)
            existing["revision"] = top + 1
            existing = await client.update(CONTROLLERREVISIONS, existing, ns)
            informer.assume(existing)
        return existing, revisions, collisions
    labels = dict((((owner.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})
    while True:
        h = hashing.revision_hash(data, collisions)
        name = hashing.revision_name(owner["metadata"]["name"], h)
        body = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": name, "namespace": ns, "labels": {**labels, HASH_LABEL: h},
                             "ownerReferences": [owner_ref(owner, api_version, kind)]},
                "data": data, "revision": top + 1}
        try:
            created = await client.create(CONTROLLERREVISIONS, body, ns)
            break
        except ApiError as e:
            if not e.already_exists:
                raise
        found = await client.get(CONTROLLERREVISIONS, name, ns)
        if (controller_ref(found) or {}).get("uid") == owner["metadata"]["uid"] and found.get("data") == data:
            created = found  # ours, made by an earlier sync the informer has not shown yet
            break
        collisions = (collisions or 0) + 1  # the name is taken by other data: hash again, as upstream
    informer.assume(created)
    return created, revisions + [created], collisions


async def prune(client, revisions: list[dict], keep_names: set[str], limit: int) -> None:
    """Delete the oldest revisions no pod uses (`keep_names`) beyond revisionHistoryLimit."""
    unused = [r for r in revisions if r["metadata"]["name"] not in keep_names]
    for r in unused[:max(len(unused) - limit, 0)]:
        try:
            await client.delete(CONTROLLERREVISIONS, r["metadata"]["name"], r["metadata"]["namespace"])
        except ApiError as e:
            if not e.not_found:
                raise
