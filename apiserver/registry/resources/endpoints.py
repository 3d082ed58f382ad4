"""Endpoints: a data holder (no spec) that PUT may create; address and port
rules; the table lists the first addresses."""
from __future__ import annotations

import ipaddress
from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import CORE, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc, list_with_more
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field
from apiserver.registry.validation.endpoint_ports import validate_endpoint_ports
from apiserver.registry.validation.ips import is_ip


class EndpointsStrategy(Strategy):
    serves = (("", "endpoints"),)
    has_spec = False
    allow_create_on_update = True

    def defaults(self, obj: dict) -> None:
        for ss in obj.get("subsets") or []:
            for p in ss.get("ports") or []:
                p.setdefault("protocol", "TCP")

    def validate(self, obj: dict) -> list[Cause]:
        causes: list[Cause] = []
        for p, ss in field.objects(obj.get("subsets"), "subsets"):
            for key in ("addresses", "notReadyAddresses"):
                for j, a in enumerate(ss.get(key) or []):
                    ip = (a or {}).get("ip") or ""
                    if not is_ip(ip):
                        causes.append(field.invalid(field.child(field.index(field.child(p, key), j), "ip"), ip,
                                                    "must be a valid IP address"))
            causes += validate_endpoint_ports(ss.get("ports"), field.child(p, "ports"), True)
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Endpoints", doc(CORE + "Endpoints", "subsets")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        subsets = obj.get("subsets") or []
        if not subsets:
            return [name_of(obj), "<none>", age_of(obj, now)]
        shown: list[str] = []
        count = 0
        for ss in subsets:
            addrs = ss.get("addresses") or []
            ports = ss.get("ports") or []
            if not ports:
                count += len(addrs)
                shown.extend(a.get("ip", "") for a in addrs)
                continue
            for p in ports:
                count += len(addrs)
                shown.extend(_join_host_port(a.get("ip", ""), p.get("port", 0)) for a in addrs)
        return [name_of(obj), list_with_more(shown, count, empty=""), age_of(obj, now)]


def _join_host_port(ip: str, port: int) -> str:
    try:
        if ipaddress.ip_address(ip).version == 6:
            return f"[{ip}]:{port}"
    except ValueError:
        pass
    return f"{ip}:{port}"
