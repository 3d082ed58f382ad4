"""Rules PersistentVolumes and PersistentVolumeClaims share (upstream's
ValidatePersistentVolume / ValidatePersistentVolumeClaim helpers): access
modes, the storage request or capacity, the class name, the volume mode."""
from __future__ import annotations

from apiserver.machinery import names
from apiserver.machinery.errors import Cause

from . import field, quantities

ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")


def access_modes(modes, path: str, required_detail: str) -> list[Cause]:
    if not modes:
        return [field.required(path, required_detail)]
    causes = [field.not_supported(path, m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        causes.append(field.forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return causes


def storage_quantity(resources, path: str) -> list[Cause]:
    """resources[storage] present and above zero (capacity of a PV, request of a claim)."""
    value = (resources or {}).get("storage") if isinstance(resources, dict) else None
    p = field.key(path, "storage")
    if value is None:
        return [field.required(p, "")]
    q = quantities.parse(value)
    if q is None:
        return [field.invalid(p, value, quantities.QUANTITY_ERR)]
    if q <= 0:
        return [field.invalid(p, value, "must be greater than zero")]
    return []


def class_name(value, path: str) -> list[Cause]:
    if not value:
        return []
    return field.each_invalid(path, value, names.is_dns1123_subdomain(value))


def volume_mode(value, path: str) -> list[Cause]:
    return field.supported(path, value, VOLUME_MODES)

