"""EndpointSlices (discovery.k8s.io): a data holder (no spec); address type
rules (immutable), limits on endpoints and ports; the table."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc, list_with_more
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field
from apiserver.registry.validation.endpoint_ports import validate_endpoint_ports
from apiserver.registry.validation.ips import is_ip

_SLICE = "io.k8s.api.discovery.v1.EndpointSlice"


class EndpointSliceStrategy(Strategy):
    serves = (("discovery.k8s.io", "endpointslices"),)
    has_spec = False

    def defaults(self, obj: dict) -> None:
        for p in obj.get("ports") or []:
            p.setdefault("protocol", "TCP")
            p.setdefault("name", "")

    def validate(self, obj: dict) -> list[Cause]:
        return validate_endpointslice(obj)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        if new.get("addressType") == old.get("addressType"):
            return []
        return [field.immutable("addressType", new.get("addressType"))]

    def columns(self) -> list[dict]:
        return [name_column(), col("AddressType", doc(_SLICE, "addressType")), col("Ports", doc(_SLICE, "ports")),
                col("Endpoints", doc(_SLICE, "endpoints")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        ports = []
        for p in obj.get("ports") or []:
            if p.get("port") is not None:
                ports.append(str(p["port"]))
            elif p.get("name") is not None:
                ports.append(p["name"])
            else:
                ports.append("*")
        addrs = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
        return [name_of(obj), obj.get("addressType", ""), list_with_more(ports, len(ports)),
                list_with_more(addrs, len(addrs)), age_of(obj, now)]


def validate_endpointslice(es: dict) -> list[Cause]:
    causes: list[Cause] = []
    kind = es.get("addressType")
    if not kind:
        causes.append(field.required("addressType", ""))
    else:
        causes += field.supported("addressType", kind, ("FQDN", "IPv4", "IPv6"))
    endpoints = es.get("endpoints") or []
    if len(endpoints) > 1000:
        causes.append(field.too_many("endpoints", len(endpoints), 1000))
    for i, e in enumerate(endpoints):
        p = field.index("endpoints", i)
        addrs = (e or {}).get("addresses") or []
        if not addrs:
            causes.append(field.required(field.child(p, "addresses"), "must contain at least 1 address"))
        elif len(addrs) > 100:
            causes.append(field.too_many(field.child(p, "addresses"), len(addrs), 100))
        for j, a in enumerate(addrs):
            ap = field.index(field.child(p, "addresses"), j)
            if kind == "IPv4" and not is_ip(a, 4):
                causes.append(field.invalid(ap, a, "must be a valid IPv4 address"))
            elif kind == "IPv6" and not is_ip(a, 6):
                causes.append(field.invalid(ap, a, "must be a valid IPv6 address"))
            elif kind == "FQDN":
                causes += field.each_invalid(ap, a, names.is_dns1123_subdomain(a))
    if len(es.get("ports") or []) > 20000:
        causes.append(field.too_many("ports", len(es["ports"]), 20000))
    causes += validate_endpoint_ports(es.get("ports"), "ports", False)
    return causes
