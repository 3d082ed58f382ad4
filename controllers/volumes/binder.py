"""The PersistentVolume binder (kube-controller-manager's persistentvolume-binder):
claims bind to the volumes that fit them (or that they or the volume name),
volumes move through Available, Bound and Released, and a released volume is
reclaimed by its policy: Retain keeps it, Delete removes it (a local-path
volume through the provisioner, which deletes its directory first); a volume
no plugin here can delete goes Failed as upstream's does.

Claims whose class binds on first consumer wait for the scheduler's
selected-node annotation; then a volume that admits that node is chosen, or
the class's provisioner makes one."""
from __future__ import annotations

import logging

from kubeclient import ApiError
from kubeclient.resources import NODES, PODS

from ..base import Controller
from . import PVCS, PVS, STORAGECLASSES
from .localpath import PROVISIONER as LOCAL_PATH, LocalPathProvisioner
from .matching import (BIND_COMPLETED, BOUND_BY_CONTROLLER, SELECTED_NODE, claim_class, claim_ref_is, find_match,
                       fits, volume_allows_node)

log = logging.getLogger(__name__)
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"


def _key(obj: dict) -> str:
    m = obj["metadata"]
    return f"{m['namespace']}/{m['name']}" if m.get("namespace") else m["name"]


class PersistentVolumeBinder(Controller):
    name = "persistentvolume-binder"

    def setup(self) -> None:
        inf = self.ctx.informers
        self.volumes, self.claims = inf.informer(PVS), inf.informer(PVCS)
        self.classes, self.nodes = inf.informer(STORAGECLASSES), inf.informer(NODES)
        self.pods = inf.informer(PODS)
        self.recorder = self.ctx.recorder("persistentvolume-controller")
        # provisioner name -> object with provision(claim, cls, node name) / delete(pv)
        self.provisioners = {}
        data_dir = self.ctx.options.extra.get("local_path_dir")
        if data_dir:
            self.provisioners[LOCAL_PATH] = LocalPathProvisioner(self.client, self.recorder, self.nodes, data_dir)
        self.volumes.add_handler(self._volume_changed, lambda old, new: self._volume_changed(new), self._volume_gone)
        self.claims.add_handler(lambda c: self.queue.add("pvc:" + _key(c)),
                                lambda old, new: self.queue.add("pvc:" + _key(new)), self._claim_gone)
        # a class may reach this cache after a claim naming it (the provisioner's own, at start)
        self.classes.add_handler(self._class_added)

    async def background(self) -> None:
        for p in self.provisioners.values():
            await p.ensure_class()

    def _volume_changed(self, pv: dict) -> None:
        self.queue.add("pv:" + _key(pv))
        # a volume that became available may fit a claim that found none before
        if (pv.get("status") or {}).get("phase") == "Available":
            for claim in self.claims.list():
                if not (claim.get("spec") or {}).get("volumeName"):
                    self.queue.add("pvc:" + _key(claim))

    def _class_added(self, cls: dict) -> None:
        for claim in self.claims.list():
            if not (claim.get("spec") or {}).get("volumeName") and claim_class(claim) == cls["metadata"]["name"]:
                self.queue.add("pvc:" + _key(claim))

    def _volume_gone(self, pv: dict) -> None:
        ref = (pv.get("spec") or {}).get("claimRef")
        if ref:
            self.queue.add(f"pvc:{ref.get('namespace')}/{ref.get('name')}")

    def _claim_gone(self, claim: dict) -> None:
        name = (claim.get("spec") or {}).get("volumeName")
        for pv in self.volumes.list():
            if pv["metadata"]["name"] == name or claim_ref_is(pv, claim):
                self.queue.add("pv:" + pv["metadata"]["name"])

    async def sync(self, key: str) -> None:
        kind, _, name = key.partition(":")
        if kind == "pv":
            pv = self.volumes.get(name)
            if pv is not None:
                await self.sync_volume(pv)
        else:
            claim = self.claims.get(name)
            if claim is not None and not claim["metadata"].get("deletionTimestamp"):
                await self.sync_claim(claim)

    # --- claims ---------------------------------------------------------------
    async def sync_claim(self, claim: dict) -> None:
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if volume_name:
            pv = self.volumes.get(volume_name)
            if pv is None:
                if (claim.get("status") or {}).get("phase") == "Bound":
                    await self._claim_status(claim, "Lost")
                    self.recorder.event(claim, "Warning", "ClaimLost",
                                        "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
                return
            if claim_ref_is(pv, claim):
                await self._bind(pv, claim)
            elif not (pv.get("spec") or {}).get("claimRef"):
                if fits(pv, claim):
                    await self._bind(pv, claim)
                else:
                    self.recorder.event(claim, "Warning", "VolumeMismatch",
                                        "Cannot bind to requested volume \"%s\": it does not fit the claim" % volume_name)
            else:
                self.recorder.event(claim, "Warning", "FailedBinding", "volume already bound to a different claim.")
            return
        cls = self.classes.get(claim_class(claim)) if claim_class(claim) else None
        node_name = (claim["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        if cls is not None and cls.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER:
            if not node_name:
                self.recorder.event(claim, "Normal", "WaitForFirstConsumer",
                                    "waiting for first consumer to be created before binding")
                return
            node = self.nodes.get(node_name)
            pv = find_match(claim, self.volumes.list(), lambda v: volume_allows_node(v, node))
        else:
            pv = find_match(claim, self.volumes.list())
        if pv is not None:
            await self._bind(pv, claim)
            return
        await self._provision_or_report(claim, cls, node_name)

    async def _provision_or_report(self, claim: dict, cls: dict | None, node_name: str | None) -> None:
        name = claim_class(claim)
        if not name:
            self.recorder.event(claim, "Normal", "FailedBinding",
                                "no persistent volumes available for this claim and no storage class is set")
            return
        if cls is None:
            self.recorder.event(claim, "Warning", "ProvisioningFailed",
                                f'storageclass.storage.k8s.io "{name}" not found')
            return
        provisioner = self.provisioners.get(cls.get("provisioner"))
        if provisioner is None:
            self.recorder.event(claim, "Normal", "ExternalProvisioning",
                                f"Waiting for a volume to be created either by the external provisioner "
                                f"'{cls.get('provisioner')}' or manually by the system administrator. If volume "
                                "creation is delayed, please verify that the provisioner is running and correctly "
                                "registered.")
            return
        await provisioner.provision(claim, cls, node_name)

    # --- binding --------------------------------------------------------------
    async def _bind(self, pv: dict, claim: dict) -> None:
        m = claim["metadata"]
        spec = pv.setdefault("spec", {})
        if not claim_ref_is(pv, claim) or not (spec.get("claimRef") or {}).get("uid"):
            if not spec.get("claimRef"):
                pv["metadata"].setdefault("annotations", {})[BOUND_BY_CONTROLLER] = "yes"
            spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": m["namespace"], "name": m["name"],
                                "uid": m["uid"], "apiVersion": "v1", "resourceVersion": m.get("resourceVersion", "")}
            pv = await self.client.update(PVS, pv)
        if (pv.get("status") or {}).get("phase") != "Bound":
            pv["status"] = dict(pv.get("status") or {}, phase="Bound")
            pv = await self.client.update_status(PVS, pv)
        cspec = claim.setdefault("spec", {})
        ann = m.setdefault("annotations", {})
        if cspec.get("volumeName") != pv["metadata"]["name"] or ann.get(BIND_COMPLETED) != "yes":
            if cspec.get("volumeName") != pv["metadata"]["name"]:
                ann[BOUND_BY_CONTROLLER] = "yes"
            cspec["volumeName"] = pv["metadata"]["name"]
            ann[BIND_COMPLETED] = "yes"
            claim = await self.client.update(PVCS, claim, m["namespace"])
        status = claim.get("status") or {}
        want = {"phase": "Bound", "accessModes": list(pv["spec"].get("accessModes") or [])}
        # capacity is set when the claim becomes bound, not after: during an expansion
        # the volume grows first and the expander reports the claim's new size
        if status.get("phase") != "Bound" or not (status.get("capacity") or {}).get("storage"):
            want["capacity"] = dict(pv["spec"].get("capacity") or {})
        if any(status.get(k) != v for k, v in want.items()):
            claim["status"] = dict(status, **want)
            await self.client.update_status(PVCS, claim, m["namespace"])

    async def _claim_status(self, claim: dict, phase: str) -> None:
        claim["status"] = dict(claim.get("status") or {}, phase=phase)
        await self.client.update_status(PVCS, claim, claim["metadata"]["namespace"])

    # --- volumes --------------------------------------------------------------
    async def sync_volume(self, pv: dict) -> None:
        spec, status = pv.get("spec") or {}, pv.get("status") or {}
        ref = spec.get("claimRef")
        if not ref:
            if status.get("phase") not in ("Available", "Failed"):
                await self._volume_status(pv, "Available")
            return
        claim = self.claims.get(f"{ref.get('namespace')}/{ref.get('name')}")
        if not ref.get("uid"):  # pre-bound by its author: the claim binds when it comes
            if claim is not None:
                self.queue.add("pvc:" + _key(claim))
            if status.get("phase") != "Available":
                await self._volume_status(pv, "Available")
            return
        if claim is not None and claim["metadata"].get("uid") == ref.get("uid"):
            if (claim.get("spec") or {}).get("volumeName") == pv["metadata"]["name"]:
                if status.get("phase") != "Bound":
                    await self._volume_status(pv, "Bound")
            else:
                self.queue.add("pvc:" + _key(claim))
            return
        claim = await self._live_claim(ref)  # the cache may lag a fresh claim: ask before releasing
        if claim is not None and claim["metadata"].get("uid") == ref.get("uid"):
            return
        await self._reclaim(pv)

    async def _live_claim(self, ref: dict) -> dict | None:
        try:
            return await self.client.get(PVCS, ref.get("name"), ref.get("namespace"))
        except ApiError as e:
            if e.not_found:
                return None
            raise

    async def _reclaim(self, pv: dict) -> None:
        status = pv.get("status") or {}
        policy = (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") or "Retain"
        if status.get("phase") not in ("Released", "Failed"):
            pv = await self._volume_status(pv, "Released")
        if policy == "Retain" or (pv.get("status") or {}).get("phase") == "Failed":
            return
        if pv["metadata"].get("deletionTimestamp"):
            return
        provisioned_by = (pv["metadata"].get("annotations") or {}).get("pv.kubernetes.io/provisioned-by")
        provisioner = self.provisioners.get(provisioned_by)
        if policy == "Delete" and provisioner is not None:
            await provisioner.delete(pv)
            try:
                await self.client.delete(PVS, pv["metadata"]["name"])
            except ApiError as e:
                if not e.not_found:
                    raise
            return
        message = (f'error getting deleter volume plugin for volume "{pv["metadata"]["name"]}": '
                   "no deletable volume plugin matched") if policy == "Delete" else \
            f'no volume plugin matched name: kubernetes.io/{policy.lower()}'
        reason = "VolumeFailedDelete" if policy == "Delete" else "VolumeFailedRecycle"
        self.recorder.event(pv, "Warning", reason, message)
        await self._volume_status(pv, "Failed", message)

    async def _volume_status(self, pv: dict, phase: str, message: str | None = None) -> dict:
        status = dict(pv.get("status") or {}, phase=phase)
        if message is not None:
            status["message"] = message
        pv["status"] = status
        return await self.client.update_status(PVS, pv)
