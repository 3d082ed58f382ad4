"""The pvc-protection and pv-protection controllers: a claim being deleted
keeps its kubernetes.io/pvc-protection finalizer while a pod that has not
finished uses it; a volume being deleted keeps kubernetes.io/pv-protection
while it is Bound. Then the finalizer goes and the delete completes."""
from __future__ import annotations

from kubeclient import ApiError
from kubeclient.resources import PODS

from ..base import Controller
from . import PVCS, PVS
from .matching import claim_in_use, claims_of_pod

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


class _Protection(Controller):
    resource = PVCS
    finalizer = ""

    async def _drop_finalizer(self, obj: dict) -> None:
        m = obj["metadata"]
        remaining = [f for f in m.get("finalizers") or [] if f != self.finalizer]
        patch = [{"op": "test", "path": "/metadata/resourceVersion", "value": m["resourceVersion"]},
                 {"op": "replace", "path": "/metadata/finalizers", "value": remaining}]
        try:
            await self.client.patch(self.resource, m["name"], patch, m.get("namespace"), patch_type="json")
        except ApiError as e:
            if not e.not_found:
                raise


class PVCProtectionController(_Protection):
    name = "pvc-protection"
    resource = PVCS
    finalizer = PVC_PROTECTION

    def setup(self) -> None:
        self.claims = self.ctx.informers.informer(PVCS)
        self.pods = self.ctx.informers.informer(PODS)
        self.claims.add_handler(*self.enqueue_handlers())
        self.pods.add_handler(self._pod_changed, lambda old, new: self._pod_changed(new), self._pod_changed)

    def _pod_changed(self, pod: dict) -> None:
        for name in claims_of_pod(pod):
            self.queue.add(f"{pod['metadata']['namespace']}/{name}")

    async def sync(self, key: str) -> None:
        claim = self.claims.get(key)
        if claim is None or not claim["metadata"].get("deletionTimestamp"):
            return
        if self.finalizer not in (claim["metadata"].get("finalizers") or []):
            return
        m = claim["metadata"]
        if claim_in_use(m["namespace"], m["name"], self.pods.list(m["namespace"])):
            return
        # the cache may not have a pod created just before the delete yet: ask the server too
        live = (await self.client.list(PODS, m["namespace"])).get("items") or []
        if claim_in_use(m["namespace"], m["name"], live):
            return
        await self._drop_finalizer(claim)


class PVProtectionController(_Protection):
    name = "pv-protection"
    resource = PVS
    finalizer = PV_PROTECTION

    def setup(self) -> None:
        self.volumes = self.ctx.informers.informer(PVS)
        self.volumes.add_handler(*self.enqueue_handlers())

    async def sync(self, key: str) -> None:
        pv = self.volumes.get(key)
        if pv is None or not pv["metadata"].get("deletionTimestamp"):
            return
        if self.finalizer not in (pv["metadata"].get("finalizers") or []):
            return
        if (pv.get("status") or {}).get("phase") == "Bound":
            return
        await self._drop_finalizer(pv)
