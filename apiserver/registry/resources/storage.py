"""storage.k8s.io/v1: StorageClass with upstream's defaults and rules, and the CSI
objects (CSIDriver, CSINode, VolumeAttachment, CSIStorageCapacity), stored for
clients and charts that look for them, validated as upstream validates them
(CSI driver names, a VolumeAttachment's attacher, single source and node). No
CSI attacher runs here."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

GROUP = "storage.k8s.io"
_V1 = "io.k8s.api.storage.v1."
RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
MAX_PARAMETERS_SIZE = 256 * 1024
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
CSI_DRIVER_NAME_MAX = 63
EXACTLY_ONE_SOURCE = "must specify exactly one of inlineVolumeSpec and persistentVolumeName"


def csi_driver_name_errors(name: str) -> list[str]:
    """Upstream's ValidateCSIDriverName: at most 63 characters, a DNS subdomain once lowercased."""
    out = [f"must be no more than {CSI_DRIVER_NAME_MAX} characters"] if len(name) > CSI_DRIVER_NAME_MAX else []
    return out + names.is_dns1123_subdomain(name.lower())


def validate_attachment_spec(spec: dict) -> list[Cause]:
    """A VolumeAttachment's attacher, source and node, as upstream's ValidateVolumeAttachmentV1."""
    from .persistentvolumes import validate_spec as validate_pv_spec
    causes: list[Cause] = []
    attacher = spec.get("attacher") or ""
    if not attacher:
        causes.append(field.required("spec.attacher", ""))
    else:
        causes += field.each_invalid("spec.attacher", attacher, csi_driver_name_errors(attacher))
    source = spec.get("source") if isinstance(spec.get("source"), dict) else {}
    inline, pv_name = source.get("inlineVolumeSpec"), source.get("persistentVolumeName")
    if inline is None and pv_name is None:
        causes.append(field.required("spec.source", EXACTLY_ONE_SOURCE))
    elif inline is not None and pv_name is not None:
        causes.append(field.forbidden("spec.source", EXACTLY_ONE_SOURCE))
    elif pv_name is not None:
        if not pv_name:
            causes.append(field.required("spec.source.persistentVolumeName",
                                         "must specify non empty persistentVolumeName"))
        else:
            causes += field.each_invalid("spec.source.persistentVolumeName", pv_name,
                                         names.is_dns1123_subdomain(pv_name))
    elif isinstance(inline, dict):
        causes += validate_pv_spec(inline, "spec.source.inlineVolumeSpec")
    node = spec.get("nodeName") or ""
    if not node:
        causes.append(field.required("spec.nodeName", ""))
    else:
        causes += field.each_invalid("spec.nodeName", node, names.is_dns1123_subdomain(node))
    return causes


class StorageClassStrategy(Strategy):
    serves = ((GROUP, "storageclasses"),)
    has_spec = False

    def defaults(self, obj: dict) -> None:
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")

    def validate(self, obj: dict) -> list[Cause]:
        provisioner = obj.get("provisioner") or ""
        causes: list[Cause] = []
        if not provisioner:
            causes.append(field.required("provisioner", ""))
        else:
            causes += field.each_invalid("provisioner", provisioner, names.is_qualified_name(provisioner.lower()))
        params = obj.get("parameters") or {}
        size = 0
        for k, v in params.items():
            if not k:
                causes.append(field.invalid("parameters", k, "invalid empty parameter name"))
            size += len(k) + len(str(v))
        if size > MAX_PARAMETERS_SIZE:
            causes.append(field.too_long("parameters", MAX_PARAMETERS_SIZE))
        causes += field.supported("reclaimPolicy", obj.get("reclaimPolicy"), RECLAIM_POLICIES)
        return causes + field.supported("volumeBindingMode", obj.get("volumeBindingMode"), BINDING_MODES)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        causes: list[Cause] = []
        for key in ("parameters", "provisioner", "reclaimPolicy"):
            if (new.get(key) or None) != (old.get(key) or None):
                causes.append(field.forbidden(key, f"updates to {key} are forbidden."))
        if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
            causes.append(field.immutable("volumeBindingMode", new.get("volumeBindingMode")))
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Provisioner", doc(_V1 + "StorageClass", "provisioner")),
                col("ReclaimPolicy", doc(_V1 + "StorageClass", "reclaimPolicy")),
                col("VolumeBindingMode", doc(_V1 + "StorageClass", "volumeBindingMode")),
                col("AllowVolumeExpansion", doc(_V1 + "StorageClass", "allowVolumeExpansion")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        name = name_of(obj)
        if ((obj.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
            name += " (default)"
        return [name, obj.get("provisioner", ""), obj.get("reclaimPolicy") or "Delete",
                obj.get("volumeBindingMode") or "Immediate", str(bool(obj.get("allowVolumeExpansion"))).lower(),
                age_of(obj, now)]


class CSIDriverStrategy(Strategy):
    serves = ((GROUP, "csidrivers"),)

    def name_errors(self, name: str) -> list[str]:
        return csi_driver_name_errors(name)

    def defaults(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            for key, value in (("attachRequired", True), ("podInfoOnMount", False), ("requiresRepublish", False),
                               ("storageCapacity", False), ("fsGroupPolicy", "ReadWriteOnceWithFSType"),
                               ("volumeLifecycleModes", ["Persistent"])):
                spec.setdefault(key, value)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = field.supported("spec.fsGroupPolicy", spec.get("fsGroupPolicy"),
                                 ("File", "None", "ReadWriteOnceWithFSType"))
        for i, mode in enumerate(spec.get("volumeLifecycleModes") or []):
            causes += field.supported(field.index("spec.volumeLifecycleModes", i), mode, ("Ephemeral", "Persistent"))
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        return [field.immutable(field.child("spec", k), ns.get(k)) for k in ("attachRequired",)
                if ns.get(k) != os_.get(k)]

    def columns(self) -> list[dict]:
        spec = _V1 + "CSIDriverSpec"
        return [name_column(), col("AttachRequired", doc(spec, "attachRequired"), "boolean"),
                col("PodInfoOnMount", doc(spec, "podInfoOnMount"), "boolean"),
                col("StorageCapacity", doc(spec, "storageCapacity"), "boolean"),
                col("TokenRequests", doc(spec, "tokenRequests")),
                col("RequiresRepublish", doc(spec, "requiresRepublish"), "boolean"),
                col("Modes", doc(spec, "volumeLifecycleModes")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        tokens = ",".join(t.get("audience", "") for t in spec.get("tokenRequests") or []) or "<unset>"
        return [name_of(obj), bool(spec.get("attachRequired")), bool(spec.get("podInfoOnMount")),
                bool(spec.get("storageCapacity")), tokens, bool(spec.get("requiresRepublish")),
                ",".join(spec.get("volumeLifecycleModes") or []) or "<none>", age_of(obj, now)]


class CSINodeStrategy(Strategy):
    serves = ((GROUP, "csinodes"),)

    def columns(self) -> list[dict]:
        return [name_column(), col("Drivers", "Drivers indicates the number of CSI drivers registered on the node",
                                   "integer"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), len((obj.get("spec") or {}).get("drivers") or []), age_of(obj, now)]


class VolumeAttachmentStrategy(Strategy):
    serves = ((GROUP, "volumeattachments"),)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec")
        return validate_attachment_spec(spec) if isinstance(spec, dict) else []

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        if new.get("spec") != old.get("spec"):
            return [field.immutable("spec", "")]
        return []

    def columns(self) -> list[dict]:
        spec = _V1 + "VolumeAttachmentSpec"
        return [name_column(), col("Attacher", doc(spec, "attacher")),
                col("PV", doc(_V1 + "VolumeAttachmentSource", "persistentVolumeName")),
                col("Node", doc(spec, "nodeName")),
                col("Attached", doc(_V1 + "VolumeAttachmentStatus", "attached"), "boolean"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        return [name_of(obj), spec.get("attacher", ""), (spec.get("source") or {}).get("persistentVolumeName", ""),
                spec.get("nodeName", ""), bool((obj.get("status") or {}).get("attached")), age_of(obj, now)]


class CSIStorageCapacityStrategy(Strategy):
    serves = ((GROUP, "csistoragecapacities"),)
    has_spec = False

    def validate(self, obj: dict) -> list[Cause]:
        sc = obj.get("storageClassName") or ""
        if not sc:
            return [field.required("storageClassName", "")]
        return field.each_invalid("storageClassName", sc, names.is_dns1123_subdomain(sc))

    def columns(self) -> list[dict]:
        return [name_column(), col("StorageClassName", doc(_V1 + "CSIStorageCapacity", "storageClassName")),
                col("Capacity", doc(_V1 + "CSIStorageCapacity", "capacity")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), obj.get("storageClassName", ""), obj.get("capacity") or "", age_of(obj, now)]
