"""PersistentVolumes (core/v1, cluster-scoped): exactly one volume source,
capacity, access modes, reclaim policy; phase Pending when created; the source
is immutable. Printed as upstream's `kubectl get pv`."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import CORE, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.printing.volumes import access_modes_text, storage_class_of, unset_or
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field, volumes

SOURCES = (
    "gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "nfs", "rbd", "iscsi", "cinder",
    "cephfs", "fc", "flocker", "flexVolume", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
    "photonPersistentDisk", "portworxVolume", "scaleIO", "local", "storageos", "csi",
)
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
SPEC = "io.k8s.api.core.v1.PersistentVolumeSpec"


def validate_spec(spec: dict, path: str = "spec") -> list[Cause]:
    causes: list[Cause] = []
    causes += volumes.access_modes(spec.get("accessModes"), field.child(path, "accessModes"), "")
    capacity = spec.get("capacity")
    if not capacity:
        causes.append(field.required(field.child(path, "capacity"), ""))
    else:
        causes += [field.not_supported(field.key(field.child(path, "capacity"), k), k, ["storage"])
                   for k in capacity if k != "storage"]
        if "storage" in capacity:
            causes += volumes.storage_quantity(capacity, field.child(path, "capacity"))
    causes += field.supported(field.child(path, "persistentVolumeReclaimPolicy"),
                              spec.get("persistentVolumeReclaimPolicy"), RECLAIM_POLICIES)
    causes += volumes.class_name(spec.get("storageClassName"), field.child(path, "storageClassName"))
    causes += volumes.volume_mode(spec.get("volumeMode"), field.child(path, "volumeMode"))
    sources = [s for s in SOURCES if spec.get(s) is not None]
    if not sources:
        causes.append(field.required(path, "must specify a volume type"))
    for extra in sources[1:]:
        causes.append(field.forbidden(field.child(path, extra), "may not specify more than 1 volume type"))
    host_path = spec.get("hostPath")
    if isinstance(host_path, dict) and not host_path.get("path"):
        causes.append(field.required(field.child(path, "hostPath.path"), ""))
    local = spec.get("local")
    if isinstance(local, dict):
        if not local.get("path"):
            causes.append(field.required(field.child(path, "local.path"), ""))
        if not (spec.get("nodeAffinity") or {}).get("required"):
            causes.append(field.required(field.child(path, "nodeAffinity"), "Local volume requires node affinity"))
    claim = spec.get("claimRef")
    if isinstance(claim, dict) and not claim.get("name"):
        causes.append(field.required(field.child(path, "claimRef.name"), ""))
    return causes


class PersistentVolumeStrategy(Strategy):
    serves = (("", "persistentvolumes"),)
    selectable_fields = ()

    def defaults(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
            spec.setdefault("volumeMode", "Filesystem")
        status = obj.setdefault("status", {})
        if isinstance(status, dict) and not status.get("phase"):
            status["phase"] = "Pending"

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec")
        return validate_spec(spec) if isinstance(spec, dict) else []

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        causes: list[Cause] = []
        if any(ns.get(s) != os_.get(s) for s in SOURCES):
            causes.append(field.forbidden("spec.persistentvolumesource",
                                          "spec.persistentvolumesource is immutable after creation"))
        if ns.get("volumeMode") != os_.get("volumeMode"):
            causes.append(field.immutable("spec.volumeMode", ns.get("volumeMode")))
        if os_.get("nodeAffinity") and ns.get("nodeAffinity") != os_.get("nodeAffinity"):
            causes.append(field.invalid("spec.nodeAffinity", ns.get("nodeAffinity"), "field is immutable"))
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Capacity", doc(SPEC, "capacity")), col("Access Modes", doc(SPEC, "accessModes")),
                col("Reclaim Policy", doc(SPEC, "persistentVolumeReclaimPolicy")),
                col("Status", doc(CORE + "PersistentVolumeStatus", "phase")), col("Claim", doc(SPEC, "claimRef")),
                col("StorageClass", "StorageClass of the pv"),
                col("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
                col("Reason", doc(CORE + "PersistentVolumeStatus", "reason")), age_column(),
                col("VolumeMode", doc(SPEC, "volumeMode"), priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        claim = spec.get("claimRef") or {}
        claim_text = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
        phase = status.get("phase") or ""
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            phase = "Terminating"
        return [name_of(obj), str((spec.get("capacity") or {}).get("storage", "")),
                access_modes_text(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy") or "",
                phase, claim_text, storage_class_of(obj), unset_or(spec.get("volumeAttributesClassName")),
                status.get("reason") or "", age_of(obj, now), unset_or(spec.get("volumeMode"))]
