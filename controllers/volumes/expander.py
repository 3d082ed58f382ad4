"""The volume expander (kube-controller-manager's persistentvolume-expander
with the resizer's part for local-path): a bound claim whose storage request
grew past its capacity gets its volume grown, then reports the new size.

A local-path volume is a directory on the node: growing it needs no device or
filesystem resize, so after the PersistentVolume's capacity is raised the
claim's status.capacity follows at once (no FileSystemResizePending step).
Claims of other provisioners wait for an external resizer, as upstream says.

On the claim, as upstream's resizer writes it: while the volume grows,
status.allocatedResources holds the new size, allocatedResourceStatuses
`ControllerResizeInProgress` and a `Resizing` condition; when done the
capacity is the new size, the condition and the in-progress status go and
allocatedResources stays."""
from __future__ import annotations

from kubeclient import timestamps

from ..base import Controller
from . import PVCS, PVS
from .localpath import PROVISIONED_BY, PROVISIONER as LOCAL_PATH
from .matching import quantity

RESIZING = "Resizing"
IN_PROGRESS = "ControllerResizeInProgress"


def storage_request(claim: dict):
    return (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def needs_expansion(claim: dict, pv: dict | None) -> bool:
    """A bound claim asking for more than it has (pure)."""
    status = claim.get("status") or {}
    if pv is None or status.get("phase") != "Bound" or claim["metadata"].get("deletionTimestamp"):
        return False
    want = quantity(storage_request(claim))
    have = quantity((status.get("capacity") or {}).get("storage"))
    return want > have


def resizing_status(status: dict, size: str) -> dict:
    """The claim's status while its volume grows."""
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != RESIZING]
    conditions.append({"type": RESIZING, "status": "True", "lastProbeTime": None,
                       "lastTransitionTime": timestamps.now()})
    statuses = dict(status.get("allocatedResourceStatuses") or {}, storage=IN_PROGRESS)
    return dict(status, conditions=conditions, allocatedResources=dict(status.get("allocatedResources") or {},
                                                                       storage=size),
                allocatedResourceStatuses=statuses)


def resized_status(status: dict, size: str) -> dict:
    """The claim's status once the volume (and, here, its filesystem) has the new size."""
    out = dict(status, capacity=dict(status.get("capacity") or {}, storage=size),
               allocatedResources=dict(status.get("allocatedResources") or {}, storage=size))
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != RESIZING]
    if conditions:
        out["conditions"] = conditions
    else:
        out.pop("conditions", None)
    statuses = {k: v for k, v in (status.get("allocatedResourceStatuses") or {}).items() if k != "storage"}
    if statuses:
        out["allocatedResourceStatuses"] = statuses
    else:
        out.pop("allocatedResourceStatuses", None)
    return out


class VolumeExpander(Controller):
    name = "persistentvolume-expander"

    def setup(self) -> None:
        inf = self.ctx.informers
        self.claims, self.volumes = inf.informer(PVCS), inf.informer(PVS)
        self.recorder = self.ctx.recorder("volume_expand")
        self.claims.add_handler(*self.enqueue_handlers())

    async def sync(self, key: str) -> None:
        claim = self.claims.get(key)
        if claim is None:
            return
        pv = self.volumes.get((claim.get("spec") or {}).get("volumeName") or "")
        if not needs_expansion(claim, pv):
            return
        if (pv["metadata"].get("annotations") or {}).get(PROVISIONED_BY) != LOCAL_PATH:
            self.recorder.event(claim, "Normal", "ExternalExpanding",
                                "waiting for an external controller to expand this PVC")
            return
        await self.expand(claim, pv)

    async def expand(self, claim: dict, pv: dict) -> None:
        ns, size = claim["metadata"]["namespace"], storage_request(claim)
        name = pv["metadata"]["name"]
        self.recorder.event(claim, "Normal", "Resizing", f"External resizer is resizing volume {name}")
        claim["status"] = resizing_status(claim.get("status") or {}, size)
        claim = await self.client.update_status(PVCS, claim, ns)
        if quantity((pv["spec"].get("capacity") or {}).get("storage")) < quantity(size):
            pv["spec"]["capacity"] = dict(pv["spec"].get("capacity") or {}, storage=size)
            await self.client.update(PVS, pv)
        claim["status"] = resized_status(claim.get("status") or {}, size)
        await self.client.update_status(PVCS, claim, ns)
        self.recorder.event(claim, "Normal", "VolumeResizeSuccessful", "Resize volume succeeded")
