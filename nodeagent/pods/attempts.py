"""Read the runtime's containers of one pod back as Attempts (pure)."""

from __future__ import annotations

from kubeclient.timestamps import from_epoch

from ..runtime import labels as L
from .status import Attempt


def from_list_entry(e: dict, start_errors: dict[str, str], memory_limited: set[str]) -> Attempt:
    labels = e.get("Labels") or {}
    name = labels.get(L.CONTAINER_NAME, "")
    a = Attempt(
        name=name,
        attempt=int(labels.get(L.RESTART_COUNT, "0") or 0),
        id=e["Id"],
        state=e.get("State", ""),
        exit_code=int(e.get("ExitCode") or 0),
        started_at=from_epoch(e.get("StartedAt")),
        finished_at=from_epoch(e.get("ExitedAt")),
        image=e.get("Image", ""),
        image_id=("sha256:" + e["ImageID"]) if e.get("ImageID") else "",
        kind=labels.get(L.CONTAINER_KIND, "app"),
        spec_hash=labels.get(L.SPEC_HASH, ""),
    )
    if a.state == "created" and a.id in start_errors:
        # A failed start leaves the container "created" with no error recorded:
        # the message was kept from the start call (shared/environment.md).
        a.state, a.exit_code, a.reason, a.message = "exited", 128, "StartError", start_errors[a.id]
        a.finished_at = a.finished_at or a.started_at
    elif a.exited:
        if a.exit_code == 137 and name in memory_limited:
            a.reason = "OOMKilled"  # podman reports OOMKilled=false here; infer it
        else:
            a.reason = "Completed" if a.exit_code == 0 else "Error"
    return a


def group(attempts: list[Attempt]) -> dict[str, list[Attempt]]:
    """Container name -> attempts, newest first."""
    out: dict[str, list[Attempt]] = {}
    for a in attempts:
        out.setdefault(a.name, []).append(a)
    for v in out.values():
        v.sort(key=lambda a: a.attempt, reverse=True)
    return out
