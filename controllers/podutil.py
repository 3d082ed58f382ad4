"""Small facts about pods and owner references that several controllers need."""
from __future__ import annotations

import time

from kubeclient.timestamps import parse_time

from .servicepods import pod_ready


def controller_ref(obj: dict) -> dict | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_active(pod: dict) -> bool:
    return (not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_rank(pod: dict) -> tuple:
    """Sort key: the pods to give up first when scaling down come first.
    Unscheduled before scheduled, pending before running, not ready before
    ready, then the newest first (upstream's order, simplified)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    created = pod["metadata"].get("creationTimestamp") or ""
    # negate the timestamp order by inverting characters: newer sorts earlier
    newest_first = tuple(-ord(ch) for ch in created)
    return (1 if spec.get("nodeName") else 0, _PHASE_RANK.get(status.get("phase"), 0),
            1 if pod_ready(pod) else 0, newest_first)


def _ready_since(pod: dict) -> float | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready" and c.get("status") == "True":
            ts = c.get("lastTransitionTime")
            return parse_time(ts) if ts else None
    return None


def pod_available(pod: dict, min_ready_seconds: int, now: float | None = None) -> bool:
    """Ready for at least minReadySeconds (upstream's IsPodAvailable)."""
    if not pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = _ready_since(pod)
    return since is not None and (now if now is not None else time.time()) - since >= min_ready_seconds


def seconds_until_available(pods: list[dict], min_ready_seconds: int, now: float | None = None) -> float | None:
    """How long until the next ready-but-not-yet-available pod becomes available (None: none waits)."""
    if min_ready_seconds <= 0:
        return None
    now = now if now is not None else time.time()
    waits = [since + min_ready_seconds - now for p in pods if pod_ready(p)
             for since in [_ready_since(p)] if since is not None and since + min_ready_seconds > now]
    return max(min(waits), 0.0) if waits else None
