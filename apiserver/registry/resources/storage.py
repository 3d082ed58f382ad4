"""storage.k8s.io/v1: StorageClass with upstream's defaults and rules, and the CSI
objects (CSIDriver, CSINode, VolumeAttachment, CSIStorageCapacity), stored for
clients and charts that look for them. No provisioner or attacher runs here."""
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
