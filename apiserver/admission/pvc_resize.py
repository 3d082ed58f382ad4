"""PersistentVolumeClaimResize: a claim's storage request may grow only when
the claim is bound and its StorageClass says `allowVolumeExpansion: true` (the
class named before and after the edit, and the same one), as upstream's plugin
decides. Shrinking is the strategy's business (spec validation), not this."""
from __future__ import annotations

from apiserver.registry.attributes import Attributes
from apiserver.registry.validation import quantities

from .plugin import Plugin, forbidden

BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
NOT_RESIZABLE = ("only dynamically provisioned pvc can be resized and "
                 "the storageclass that provisions the pvc must support resize")


def claim_class(claim: dict) -> str:
    annotations = (claim.get("metadata") or {}).get("annotations") or {}
    if BETA_CLASS_ANNOTATION in annotations:
        return annotations[BETA_CLASS_ANNOTATION]
    return ((claim.get("spec") or {}).get("storageClassName")) or ""


def requested_storage(claim: dict):
    resources = (claim.get("spec") or {}).get("resources") or {}
    return quantities.parse(((resources.get("requests") or {}) if isinstance(resources, dict) else {}).get("storage"))


class PersistentVolumeClaimResize(Plugin):
    name = "PersistentVolumeClaimResize"
    validating = True

    async def validate(self, attrs: Attributes) -> None:
        r = attrs.resource
        if (r.group, r.plural) != ("", "persistentvolumeclaims") or attrs.subresource or attrs.operation != "UPDATE":
            return
        new, old = attrs.object, attrs.old_object
        if not isinstance(new, dict) or not isinstance(old, dict):
            return
        new_size, old_size = requested_storage(new), requested_storage(old)
        if new_size is None or old_size is None or new_size <= old_size:
            return
        if (old.get("status") or {}).get("phase") != "Bound":
            raise forbidden(attrs, "Only bound persistent volume claims can be expanded")
        if not await self._class_allows_resize(claim_class(new), claim_class(old)):
            raise forbidden(attrs, NOT_RESIZABLE)

    async def _class_allows_resize(self, name: str, old_name: str) -> bool:
        if not name or not old_name or name != old_name:
            return False
        cls = await self.get("storage.k8s.io", "storageclasses", "", name)
        return bool(cls and cls.get("allowVolumeExpansion") is True)
