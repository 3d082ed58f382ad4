"""Cells the storage kinds share in `kubectl get`."""
from __future__ import annotations

_SHORT = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP"))


def access_modes_text(modes) -> str:
    """GetAccessModesAsString: short names in upstream's fixed order, comma-joined."""
    modes = modes or []
    return ",".join(s for m, s in _SHORT if m in modes)


def storage_class_of(obj: dict) -> str:
    """spec.storageClassName, or the beta annotation older objects carry."""
    name = (obj.get("spec") or {}).get("storageClassName")
    if name is None:
        name = ((obj.get("metadata") or {}).get("annotations") or {}).get("volume.beta.kubernetes.io/storage-class", "")
    return name or ""


def unset_or(value) -> str:
    return value if value else "<unset>"
