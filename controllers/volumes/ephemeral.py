"""The ephemeral-volume controller: a pod's generic ephemeral volume is a claim
named <pod>-<volume>, made from the volume's claim template and owned by the
pod (so the garbage collector removes it with the pod)."""
from __future__ import annotations

from kubeclient import ApiError
from kubeclient.resources import PODS

from ..base import Controller
from . import PVCS


def claims_for(pod: dict) -> list[dict]:
    """The claims a pod's ephemeral volumes ask for (pure)."""
    m = pod["metadata"]
    owner = {"apiVersion": "v1", "kind": "Pod", "name": m["name"], "uid": m.get("uid", ""),
             "controller": True, "blockOwnerDeletion": True}
    out = []
    for v in (pod.get("spec") or {}).get("volumes") or []:
        if v.get("ephemeral") is None:
            continue
        template = (v["ephemeral"] or {}).get("volumeClaimTemplate") or {}
        meta = dict(template.get("metadata") or {})
        meta.update({"name": f"{m['name']}-{v['name']}", "namespace": m["namespace"], "ownerReferences": [owner]})
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                    "spec": dict(template.get("spec") or {})})
    return out


class EphemeralVolumeController(Controller):
    name = "ephemeral-volume"

    def setup(self) -> None:
        self.pods = self.ctx.informers.informer(PODS)
        self.claims = self.ctx.informers.informer(PVCS)
        self.pods.add_handler(self.enqueue, lambda old, new: self.enqueue(new))
        self.recorder = self.ctx.recorder("ephemeral_volume")

    async def sync(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        for claim in claims_for(pod):
            existing = self.claims.get(f"{claim['metadata']['namespace']}/{claim['metadata']['name']}")
            if existing is not None:
                owners = existing["metadata"].get("ownerReferences") or []
                if not any(o.get("uid") == pod["metadata"].get("uid") for o in owners):
                    self.recorder.event(pod, "Warning", "FailedBinding",
                                        f"PVC {claim['metadata']['name']} was not created for pod "
                                        f"{key} (pod is not owner)")
                continue
            try:
                await self.client.create(PVCS, claim, claim["metadata"]["namespace"])
            except ApiError as e:
                if not e.already_exists:
                    raise
