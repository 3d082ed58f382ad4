"""A Deployment's status from its ReplicaSets, and its two conditions with
upstream's reasons and messages (no I/O; deployments.py writes the result)."""
from __future__ import annotations

from kubeclient.timestamps import epoch_time, parse_time

from .rollout import replicas, rollout_complete, surge_and_unavailable

NO_DEADLINE = 2147483647  # progressDeadlineSeconds = MaxInt32: never time out


def _count(rss: list[dict], field: str) -> int:
    return sum(int((rs.get("status") or {}).get(field) or 0) for rs in rss)


def condition(status: dict, ctype: str) -> dict | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == ctype), None)


def set_condition(status: dict, ctype: str, value: str, reason: str, message: str, now: float) -> None:
    """Replace the condition; lastTransitionTime only moves when the status flips,
    lastUpdateTime on every change (as upstream's SetDeploymentCondition)."""
    old = condition(status, ctype)
    if old and old.get("status") == value and old.get("reason") == reason and old.get("message") == message:
        return
    ts = epoch_time(now)
    new = {"type": ctype, "status": value, "lastUpdateTime": ts,
           "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == value
           and old.get("lastTransitionTime") else ts, "reason": reason, "message": message}
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != ctype] + [new]


def counts(deployment: dict, all_rss: list[dict], new_rs: dict | None) -> dict:
    desired = int((deployment.get("spec") or {}).get("replicas", 1))
    avail = _count(all_rss, "availableReplicas")
    out = {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": _count(all_rss, "replicas"),
        "updatedReplicas": _count([new_rs], "replicas") if new_rs else 0,
        "readyReplicas": _count(all_rss, "readyReplicas"),
        "availableReplicas": avail,
        "unavailableReplicas": max(desired - avail, 0),
    }
    return {k: v for k, v in out.items() if v or k == "observedGeneration"}  # upstream omits zero counts


def compute(deployment: dict, all_rss: list[dict], new_rs: dict | None, now: float,
            created_new: bool = False) -> dict:
    """The status to write now (old conditions carried over and updated)."""
    old = deployment.get("status") or {}
    spec = deployment.get("spec") or {}
    status = counts(deployment, all_rss, new_rs)
    if old.get("collisionCount"):
        status["collisionCount"] = old["collisionCount"]
    status["conditions"] = [dict(c) for c in old.get("conditions") or []]
    desired = int(spec.get("replicas", 1))
    _, max_unavailable = surge_and_unavailable(deployment)
    if status.get("availableReplicas", 0) >= desired - max_unavailable:
        set_condition(status, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now)
    else:
        set_condition(status, "Available", "False", "MinimumReplicasUnavailable",
                      "Deployment does not have minimum availability.", now)
    name = new_rs["metadata"]["name"] if new_rs else ""
    deadline = int(spec.get("progressDeadlineSeconds") or NO_DEADLINE)
    progressing = condition(status, "Progressing")
    if spec.get("paused"):
        if not progressing or progressing.get("reason") != "DeploymentPaused":
            set_condition(status, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now)
    elif progressing and progressing.get("reason") == "DeploymentPaused":
        set_condition(status, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now)
    elif created_new:
        set_condition(status, "Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{name}"', now)
    elif new_rs and not progressing:
        set_condition(status, "Progressing", "True", "FoundNewReplicaSet", f'Found new replica set "{name}"', now)
    elif deadline != NO_DEADLINE and new_rs:
        if rollout_complete(deployment, new_rs, status):
            set_condition(status, "Progressing", "True", "NewReplicaSetAvailable",
                          f'ReplicaSet "{name}" has successfully progressed.', now)
        elif made_progress(old, status):
            _touch(status, "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.', now)
        elif timed_out(status, deadline, now):
            set_condition(status, "Progressing", "False", "ProgressDeadlineExceeded",
                          f'ReplicaSet "{name}" has timed out progressing.', now)
    _replica_failure(status, all_rss, new_rs)
    if not status["conditions"]:
        del status["conditions"]
    return status


def _replica_failure(status: dict, all_rss: list[dict], new_rs: dict | None) -> None:
    """A ReplicaSet's ReplicaFailure (the new one's first) copied onto the Deployment, as
    upstream's getReplicaFailures; removed when no ReplicaSet has one."""
    ordered = ([new_rs] if new_rs else []) + [rs for rs in all_rss if rs is not new_rs]
    failure = next((c for rs in ordered for c in (rs.get("status") or {}).get("conditions") or []
                    if c.get("type") == "ReplicaFailure" and c.get("status") == "True"), None)
    others = [c for c in status["conditions"] if c.get("type") != "ReplicaFailure"]
    if failure is None:
        status["conditions"] = others
        return
    ts = failure.get("lastTransitionTime")
    status["conditions"] = others + [{"type": "ReplicaFailure", "status": "True", "lastUpdateTime": ts,
                                      "lastTransitionTime": ts, "reason": failure.get("reason", ""),
                                      "message": failure.get("message", "")}]


def _touch(status: dict, ctype: str, value: str, reason: str, message: str, now: float) -> None:
    """Like set_condition, but lastUpdateTime moves even when nothing else does:
    progress restarts the deadline clock."""
    set_condition(status, ctype, value, reason, message, now)
    c = condition(status, ctype)
    c["lastUpdateTime"] = epoch_time(now)


def made_progress(old: dict, new: dict) -> bool:
    """Upstream's DeploymentProgressing: more updated, ready or available pods, or fewer old ones."""
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return (new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_old < old_old
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def timed_out(status: dict, deadline: int, now: float) -> bool:
    c = condition(status, "Progressing")
    if not c or c.get("reason") == "NewReplicaSetAvailable" or c.get("status") == "False":
        return bool(c and c.get("reason") == "ProgressDeadlineExceeded")
    since = parse_time(c.get("lastUpdateTime"))
    return since is not None and now - since > deadline


def seconds_to_deadline(deployment: dict, status: dict, now: float) -> float | None:
    """When to look again so a stalled rollout is reported on time."""
    deadline = int((deployment.get("spec") or {}).get("progressDeadlineSeconds") or NO_DEADLINE)
    c = condition(status, "Progressing")
    if deadline == NO_DEADLINE or not c or c.get("reason") not in ("ReplicaSetUpdated", "NewReplicaSetCreated",
                                                                    "FoundNewReplicaSet", "DeploymentResumed"):
        return None
    since = parse_time(c.get("lastUpdateTime"))
    return None if since is None else max(since + deadline - now, 0) + 1


__all__ = ["compute", "condition", "set_condition", "seconds_to_deadline", "replicas"]
