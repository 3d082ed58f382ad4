"""Port lists of Endpoints subsets and EndpointSlices: names, numbers, protocols."""
from __future__ import annotations

from apiserver.machinery import names
from apiserver.machinery.errors import Cause

from . import field


def validate_endpoint_ports(ports, path: str, name_required: bool) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for pp, p in field.objects(ports, path):
        name = p.get("name") or ""
        if name_required and len(ports) > 1 and not name:
            causes.append(field.required(field.child(pp, "name"), ""))
        if name:
            causes += field.unique_name(field.child(pp, "name"), name, seen, names.is_dns1123_label)
        port = p.get("port")
        if isinstance(port, int):
            causes += field.each_invalid(field.child(pp, "port"), port, names.is_valid_port_num(port))
        causes += field.supported(field.child(pp, "protocol"), p.get("protocol"), ("SCTP", "TCP", "UDP"))
    return causes
