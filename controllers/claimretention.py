"""StatefulSet persistentVolumeClaimRetentionPolicy: which owners a pod's claim carries.

The controller never deletes a claim itself. `Delete` is expressed as an owner
reference, and the garbage collector removes a claim once every owner is gone:
- whenDeleted=Delete: the StatefulSet owns the claims of its pods in range, so
  deleting the set deletes them;
- whenScaled=Delete: the claims of a pod scaled away (ordinal >= replicas) are
  owned by that pod alone, so they go with it; the set's reference is dropped
  for them, or it would keep them alive while the set exists.
`Retain` removes the reference the policy would otherwise have added (the
policy may be changed back).
"""
from __future__ import annotations

RETAIN, DELETE = "Retain", "Delete"


def _ref(obj: dict, api_version: str, kind: str) -> dict:
    m = obj["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": m["name"], "uid": m["uid"]}


def claim_owners(refs: list[dict], sts: dict, pod: dict, scaled_away: bool) -> list[dict]:
    """The ownerReferences `refs` of one of `pod`'s claims should have under `sts`'s policy
    (other owners are kept as they are)."""
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    deleted, scaled = policy.get("whenDeleted") or RETAIN, policy.get("whenScaled") or RETAIN
    by_pod = scaled == DELETE and scaled_away
    by_set = deleted == DELETE and not by_pod
    set_uid, pod_uid = sts["metadata"]["uid"], pod["metadata"]["uid"]
    drop = ({set_uid} if not by_set else set()) | ({pod_uid} if not by_pod else set())
    out = [r for r in refs if r.get("uid") not in drop]  # existing references keep their place
    have = {r.get("uid") for r in out}
    if by_set and set_uid not in have:
        out.append(_ref(sts, "apps/v1", "StatefulSet"))
    if by_pod and pod_uid not in have:
        out.append(_ref(pod, "v1", "Pod"))
    return out
