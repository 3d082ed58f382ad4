"""ControllerRevisions: the template history of DaemonSets and StatefulSets.

A revision stores the pod template as upstream does (a patch that replaces the
template), is named <owner>-<hash> and numbered; pods carry the hash in the
controller-revision-hash label, so "updated" means "carries the newest hash".
"""
from __future__ import annotations

import copy

from kubeclient import ApiError
from kubeclient.resources import CONTROLLERREVISIONS

from .podutil import controller_ref
from .replication import owner_ref
from .rollout import template_hash

HASH_LABEL = "controller-revision-hash"


def revision_data(owner: dict) -> dict:
    tpl = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    tpl["$patch"] = "replace"
    return {"spec": {"template": tpl}}


def revision_hash(owner: dict) -> str:
    return template_hash(revision_data(owner))


def owned_revisions(informer, owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return sorted((r for r in informer.list(owner["metadata"]["namespace"])
                   if (controller_ref(r) or {}).get("uid") == uid), key=lambda r: int(r.get("revision") or 0))


async def current_revision(client, informer, owner: dict, api_version: str, kind: str) -> tuple[dict, list[dict]]:
    """(the revision of the owner's template, creating or renumbering it; all owned revisions)."""
    revisions = owned_revisions(informer, owner)
    h = revision_hash(owner)
    top = max((int(r.get("revision") or 0) for r in revisions), default=0)
    name = f"{owner['metadata']['name']}-{h}"
    existing = next((r for r in revisions if r["metadata"]["name"] == name), None)
    ns = owner["metadata"]["namespace"]
    if existing is not None:
        if int(existing.get("revision") or 0) < top:  # a rollback: the old template is newest again
            existing = copy.deepcopy(existing)
            existing["revision"] = top + 1
            existing = await client.update(CONTROLLERREVISIONS, existing, ns)
            informer.assume(existing)
        return existing, revisions
    labels = dict((((owner.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})
    labels[HASH_LABEL] = h
    body = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": ns, "labels": labels,
                         "ownerReferences": [owner_ref(owner, api_version, kind)]},
            "data": revision_data(owner), "revision": top + 1}
    try:
        created = await client.create(CONTROLLERREVISIONS, body, ns)
    except ApiError as e:
        if not e.already_exists:
            raise
        created = await client.get(CONTROLLERREVISIONS, name, ns)
    informer.assume(created)
    return created, revisions + [created]


async def prune(client, revisions: list[dict], keep_hashes: set[str], limit: int) -> None:
    """Delete the oldest revisions no pod uses beyond revisionHistoryLimit."""
    unused = [r for r in revisions if r["metadata"]["name"].rsplit("-", 1)[-1] not in keep_hashes]
    for r in unused[:max(len(unused) - limit, 0)]:
        try:
            await client.delete(CONTROLLERREVISIONS, r["metadata"]["name"], r["metadata"]["namespace"])
        except ApiError as e:
            if not e.not_found:
                raise
