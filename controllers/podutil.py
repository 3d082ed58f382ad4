"""Small facts about pods and owner references that several controllers need."""
from __future__ import annotations

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
