"""networking.k8s.io/v1 IPAddresses (GA in 1.33): one object per allocated IP, named
by the address, pointing at what holds it (spec.parentRef). Validated as upstream;
parentRef never changes. The ClusterIP allocator takes an address by writing its
IPAddress (registry/allocators/ipaddresses.py); one written here by hand holds the
address as well."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field
from apiserver.registry.validation.ips import IP_MESSAGE, is_ip_sloppy


def validate_parent_ref(spec: dict) -> list[Cause]:
    ref = spec.get("parentRef")
    if not isinstance(ref, dict):
        return [field.required("spec.parentRef")]
    path, causes = "spec.parentRef", []
    group = ref.get("group") or ""
    if group:
        causes += field.each_invalid(f"{path}.group", group, names.is_dns1123_subdomain(group))
    for key in ("resource", "name"):
        value = ref.get(key) or ""
        if not value:
            causes.append(field.required(f"{path}.{key}"))
        else:
            causes += field.each_invalid(f"{path}.{key}", value, names.is_valid_path_segment_name(value))
    namespace = ref.get("namespace") or ""
    if namespace:
        causes += field.each_invalid(f"{path}.namespace", namespace, names.is_valid_path_segment_name(namespace))
    return causes


def parent_ref_cell(ref) -> str:
    """resource[.group][/namespace]/name, lower-cased group-resource, as upstream prints it."""
    if not isinstance(ref, dict):
        return "<none>"
    gr = (ref.get("resource") or "") + ("." + ref["group"] if ref.get("group") else "")
    out = gr.lower()
    if ref.get("namespace"):
        out += "/" + ref["namespace"]
    return out + "/" + (ref.get("name") or "")


class IPAddressStrategy(Strategy):
    serves = (("networking.k8s.io", "ipaddresses"),)

    def name_errors(self, name: str) -> list[str]:
        return [] if is_ip_sloppy(name) else [IP_MESSAGE]

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        return validate_parent_ref(spec)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        ref = (new.get("spec") or {}).get("parentRef")
        if ref != (old.get("spec") or {}).get("parentRef"):
            return [field.immutable("spec.parentRef", ref)]
        return []

    def columns(self) -> list[dict]:
        # no Age column: upstream's IPAddress table has none
        return [name_column(), col("ParentRef", doc("io.k8s.api.networking.v1.IPAddressSpec", "parentRef"))]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), parent_ref_cell((obj.get("spec") or {}).get("parentRef"))]
