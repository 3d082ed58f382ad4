"""PersistentVolumeClaims (core/v1): access modes and a storage request are
required; after creation the spec only changes by binding (volumeName set
once) and, for a bound claim, a storage request at or above its capacity.
Printed as upstream's `kubectl get pvc`."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import labels
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import CORE, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.volumes import access_modes_text, storage_class_of, unset_or
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field, quantities, volumes

SPEC = CORE + "PersistentVolumeClaimSpec"
STATUS = CORE + "PersistentVolumeClaimStatus"
IMMUTABLE_DETAIL = "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"


def validate_spec(spec: dict, path: str = "spec") -> list[Cause]:
    causes = volumes.access_modes(spec.get("accessModes"), field.child(path, "accessModes"),
                                  "at least 1 access mode is required")
    resources = spec.get("resources") or {}
    requests = resources.get("requests") if isinstance(resources, dict) else None
    causes += volumes.storage_quantity(requests, field.child(path, "resources"))
    causes += volumes.class_name(spec.get("storageClassName"), field.child(path, "storageClassName"))
    causes += volumes.volume_mode(spec.get("volumeMode"), field.child(path, "volumeMode"))
    selector = spec.get("selector")
    if isinstance(selector, dict):
        try:
            labels.from_label_selector_object(selector)
        except ValueError as e:
            causes.append(field.invalid(field.child(path, "selector"), selector, str(e)))
    return causes


def _comparable(spec: dict, keep_volume_name: bool) -> dict:
    out = {k: v for k, v in spec.items() if k not in ("resources", "volumeAttributesClassName")}
    if not keep_volume_name:
        out.pop("volumeName", None)
    limits = (spec.get("resources") or {}).get("limits")
    if limits is not None:
        out["limits"] = limits
    return out


class PersistentVolumeClaimStrategy(Strategy):
    serves = (("", "persistentvolumeclaims"),)

    def defaults(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("volumeMode", "Filesystem")
        status = obj.setdefault("status", {})
        if isinstance(status, dict) and not status.get("phase"):
            status["phase"] = "Pending"

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec")
        return validate_spec(spec) if isinstance(spec, dict) else []

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        # binding sets volumeName once; after that it is part of the immutable spec
        if _comparable(ns, bool(os_.get("volumeName"))) != _comparable(os_, bool(os_.get("volumeName"))):
            return [field.forbidden("spec", IMMUTABLE_DETAIL)]
        new_req = ((ns.get("resources") or {}).get("requests") or {}).get("storage")
        old_req = ((os_.get("resources") or {}).get("requests") or {}).get("storage")
        if new_req == old_req or quantities.parse(new_req) == quantities.parse(old_req):
            return []
        if (old.get("status") or {}).get("phase") != "Bound":
            return [field.forbidden("spec", IMMUTABLE_DETAIL)]
        # Shrinking is allowed only back down towards status.capacity, never to it or
        # below (upstream, RecoverVolumeExpansionFailure: undoing a failed expansion).
        got, was = quantities.parse(new_req), quantities.parse(old_req)
        capacity = quantities.parse(((old.get("status") or {}).get("capacity") or {}).get("storage")) or 0
        if got is not None and was is not None and got < was and got <= capacity:
            return [field.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity")]
        return []

    def columns(self) -> list[dict]:
        return [name_column(), col("Status", doc(STATUS, "phase")), col("Volume", doc(SPEC, "volumeName")),
                col("Capacity", doc(STATUS, "capacity")), col("Access Modes", doc(STATUS, "accessModes")),
                col("StorageClass", "StorageClass of the pvc"),
                col("VolumeAttributesClass", "VolumeAttributesClass of the pvc"), age_column(),
                col("VolumeMode", doc(SPEC, "volumeMode"), priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        phase = status.get("phase") or ""
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            phase = "Terminating"
        capacity = modes = ""
        if spec.get("volumeName"):
            modes = access_modes_text(status.get("accessModes"))
            capacity = str((status.get("capacity") or {}).get("storage", ""))
        return [name_of(obj), phase, spec.get("volumeName") or "", capacity, modes, storage_class_of(obj),
                unset_or(spec.get("volumeAttributesClassName")), age_of(obj, now), unset_or(spec.get("volumeMode"))]
