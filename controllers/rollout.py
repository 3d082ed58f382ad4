"""Deployment rollout arithmetic, without I/O (the controller is deployments.py).

A ReplicaSet is seen here as a plain dict; `replicas(rs)` is its spec.replicas
and `available(rs)` its status.availableReplicas. The rules follow upstream's
deployment utilities: maxSurge rounds up, maxUnavailable rounds down, and if
both come to zero maxUnavailable is 1 so that a rollout can make progress.
"""
from __future__ import annotations

import json
import math

from . import hashing

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"


def replicas(rs: dict) -> int:
    return int((rs.get("spec") or {}).get("replicas") or 0)


def available(rs: dict) -> int:
    return int((rs.get("status") or {}).get("availableReplicas") or 0)


def scaled_value(value, total: int, round_up: bool) -> int:
    """An IntOrString (3 or "25%") against a total."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = int(value[:-1])
        except ValueError:
            raise ValueError(f"invalid value for IntOrString: invalid value {value!r}") from None
        exact = pct * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"invalid value for IntOrString: invalid type: string is not a percentage: {value!r}")


def surge_and_unavailable(deployment: dict) -> tuple[int, int]:
    spec = deployment.get("spec") or {}
    desired = int(spec.get("replicas") if spec.get("replicas") is not None else 1)
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, desired
    ru = strategy.get("rollingUpdate") or {}
    surge = scaled_value(ru.get("maxSurge", "25%"), desired, True)
    unavailable = scaled_value(ru.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, desired)


def template_hash(template: dict, collision_count: int | None = None) -> str:
    """The pod-template-hash label of a template (upstream's format: hashing.py)."""
    return hashing.pod_template_hash(template, collision_count)


def template_without_hash(template: dict) -> dict:
    tpl = json.loads(json.dumps(template or {}))
    labels = (tpl.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return tpl


def same_template(a: dict, b: dict) -> bool:
    """Templates equal but for pod-template-hash (upstream's EqualIgnoreHash)."""
    return _normal(template_without_hash(a)) == _normal(template_without_hash(b))


def _normal(tpl: dict) -> dict:
    meta = tpl.get("metadata") or {}
    tpl["metadata"] = {k: v for k, v in meta.items() if v not in (None, {}, [])}
    return tpl


def revision(rs: dict) -> int:
    try:
        return int(((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def max_revision(rss: list[dict]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def new_rs_replicas(deployment: dict, all_rss: list[dict], new_rs: dict) -> int:
    """How big the new ReplicaSet may be now."""
    spec = deployment.get("spec") or {}
    desired = int(spec.get("replicas", 1))
    if (spec.get("strategy") or {}).get("type") == "Recreate":
        return desired
    surge, _ = surge_and_unavailable(deployment)
    current = sum(replicas(rs) for rs in all_rss)
    if current >= desired + surge:
        return replicas(new_rs)
    room = min(desired + surge - current, desired - replicas(new_rs))
    return replicas(new_rs) + max(room, 0)


def old_scale_down(deployment: dict, all_rss: list[dict], old_rss: list[dict], new_rs: dict | None) -> dict[str, int]:
    """{old ReplicaSet name: new size} for this step of a rolling update.

    Unhealthy old replicas go first (they count for nothing); then available
    ones, oldest ReplicaSet first, as long as at least replicas - maxUnavailable
    pods stay available overall."""
    desired = int((deployment.get("spec") or {}).get("replicas", 1))
    _, max_unavailable = surge_and_unavailable(deployment)
    if sum(replicas(rs) for rs in old_rss) == 0:
        return {}
    min_available = desired - max_unavailable
    new_unavailable = (replicas(new_rs) - available(new_rs)) if new_rs else 0
    budget = sum(replicas(rs) for rs in all_rss) - min_available - new_unavailable
    if budget <= 0:
        return {}
    sizes = {rs["metadata"]["name"]: replicas(rs) for rs in old_rss}
    ordered = sorted(old_rss, key=_age_key)
    for rs in ordered:  # 1. the unhealthy part of each old ReplicaSet
        if budget <= 0:
            break
        name = rs["metadata"]["name"]
        unhealthy = sizes[name] - available(rs)
        cut = min(max(unhealthy, 0), budget)
        sizes[name] -= cut
        budget -= cut
    # 2. available pods, keeping min_available overall
    avail_total = sum(min(available(rs), sizes[rs["metadata"]["name"]]) for rs in ordered)
    avail_total += available(new_rs) if new_rs else 0
    spare = avail_total - min_available
    for rs in ordered:
        if spare <= 0:
            break
        name = rs["metadata"]["name"]
        cut = min(sizes[name], spare)
        sizes[name] -= cut
        spare -= cut
    return {n: v for n, v in sizes.items() if v != replicas(next(r for r in old_rss if r["metadata"]["name"] == n))}


def _age_key(rs: dict) -> tuple:
    meta = rs.get("metadata") or {}
    return (meta.get("creationTimestamp") or "", meta.get("name") or "")


def proportional_sizes(deployment: dict, active_rss: list[dict], new_rs: dict | None) -> dict[str, int]:
    """A scaling event during a rollout: spread the change over the active
    ReplicaSets in proportion to their sizes (upstream's proportional scaling):
    each takes round(size * new allowed / old allowed), the old allowed size being
    its max-replicas annotation; the rounding remainder goes to the largest
    (on ties the newest when growing) one."""
    desired = int((deployment.get("spec") or {}).get("replicas", 1))
    surge, _ = surge_and_unavailable(deployment)
    allowed = desired + surge
    current = sum(replicas(rs) for rs in active_rss)
    to_add = allowed - current
    if to_add == 0 or current == 0:
        return {}
    newest_first = to_add > 0
    ordered = sorted(active_rss, key=lambda rs: (-replicas(rs), _newer_first(rs) if newest_first else _age_key(rs)))
    sizes, added = {}, 0
    for rs in ordered:
        size = replicas(rs)
        try:
            before = int(((rs.get("metadata") or {}).get("annotations") or {}).get(MAX_REPLICAS) or current)
        except ValueError:
            before = current
        share = int(math.floor(size * allowed / max(before, 1) + 0.5)) - size if before else 0
        share = min(share, to_add - added) if to_add > 0 else max(share, to_add - added, -size)
        sizes[rs["metadata"]["name"]] = size + share
        added += share
    first = ordered[0]["metadata"]["name"]
    sizes[first] = max(sizes[first] + (to_add - added), 0)
    return {n: v for n, v in sizes.items() if v != replicas(next(r for r in active_rss if r["metadata"]["name"] == n))}


def _newer_first(rs: dict) -> tuple:
    return tuple(-ord(c) for c in _age_key(rs)[0])


def is_scaling_event(deployment: dict, active_rss: list[dict]) -> bool:
    """The Deployment's replicas changed since its ReplicaSets were last sized."""
    desired = str((deployment.get("spec") or {}).get("replicas", 1))
    for rs in active_rss:
        ann = (rs.get("metadata") or {}).get("annotations") or {}
        if DESIRED_REPLICAS in ann and ann[DESIRED_REPLICAS] != desired:
            return True
    return False


def history_to_delete(old_rss: list[dict], limit: int) -> list[dict]:
    """Old ReplicaSets beyond revisionHistoryLimit that are scaled to zero, oldest first."""
    idle = [rs for rs in old_rss if replicas(rs) == 0 and not (rs.get("status") or {}).get("replicas")
            and not (rs.get("metadata") or {}).get("deletionTimestamp")]
    excess = len(old_rss) - limit
    if excess <= 0:
        return []
    return sorted(idle, key=lambda rs: (revision(rs), _age_key(rs)))[:excess]


def rollout_complete(deployment: dict, new_rs: dict | None, status: dict) -> bool:
    desired = int((deployment.get("spec") or {}).get("replicas", 1))
    return (new_rs is not None and status.get("updatedReplicas", 0) == desired
            and status.get("replicas", 0) == desired and status.get("availableReplicas", 0) == desired)
