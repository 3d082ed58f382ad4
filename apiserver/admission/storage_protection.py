"""StorageObjectInUseProtection and DefaultStorageClass.

Protection: every new claim gets the kubernetes.io/pvc-protection finalizer
and every new volume kubernetes.io/pv-protection; the PV controller removes
them once nothing uses the object. DefaultStorageClass: a claim that names no
class (storageClassName absent, not "") gets the default class, the newest
when several are marked default, as upstream since 1.26."""
from __future__ import annotations

from apiserver.registry.attributes import Attributes

from .plugin import Plugin

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
DEFAULT_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def _is_create_of(attrs: Attributes, plural: str) -> bool:
    r = attrs.resource
    return (attrs.operation == "CREATE" and r.group == "" and r.plural == plural and attrs.subresource == ""
            and isinstance(attrs.object, dict))


def default_class_name(classes: list[dict]) -> str:
    marked = [c for c in classes
              if any(((c.get("metadata") or {}).get("annotations") or {}).get(a) == "true" for a in DEFAULT_ANNOTATIONS)]
    if not marked:
        return ""
    # newest first; equal timestamps: the first name (two stable sorts)
    marked.sort(key=lambda c: (c.get("metadata") or {}).get("name", ""))
    marked.sort(key=lambda c: (c.get("metadata") or {}).get("creationTimestamp") or "", reverse=True)
    return (marked[0].get("metadata") or {}).get("name", "")


class StorageObjectInUseProtection(Plugin):
    name = "StorageObjectInUseProtection"
    mutating = True

    async def admit(self, attrs: Attributes) -> None:
        for plural, finalizer in (("persistentvolumeclaims", PVC_PROTECTION), ("persistentvolumes", PV_PROTECTION)):
            if _is_create_of(attrs, plural):
                meta = attrs.object.setdefault("metadata", {})
                finalizers = list(meta.get("finalizers") or [])
                if finalizer not in finalizers:
                    meta["finalizers"] = finalizers + [finalizer]


class DefaultStorageClass(Plugin):
    name = "DefaultStorageClass"
    mutating = True

    async def admit(self, attrs: Attributes) -> None:
        if not _is_create_of(attrs, "persistentvolumeclaims"):
            return
        spec = attrs.object.setdefault("spec", {})
        annotations = (attrs.object.get("metadata") or {}).get("annotations") or {}
        if not isinstance(spec, dict) or spec.get("storageClassName") is not None or BETA_CLASS_ANNOTATION in annotations:
            return
        name = default_class_name(await self.list("storage.k8s.io", "storageclasses", ""))
        if name:
            spec["storageClassName"] = name
