"""The service table: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S) as kubectl shows them."""
from __future__ import annotations

from datetime import datetime

from apiserver.registry.printing.columns import CORE, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc, format_labels

_SPEC = CORE + "ServiceSpec"


def columns() -> list[dict]:
    return [name_column(), col("Type", doc(_SPEC, "type")), col("Cluster-IP", doc(_SPEC, "clusterIP")),
            col("External-IP", doc(_SPEC, "externalIPs")), col("Port(s)", doc(_SPEC, "ports")), age_column(),
            col("Selector", doc(_SPEC, "selector"), priority=1)]


def row(obj: dict, now: datetime) -> list:
    spec = obj.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [name_of(obj), spec.get("type") or "ClusterIP", ips[0] if ips else "<none>", _external_ip(obj),
            _ports(spec.get("ports") or []) or "<none>", age_of(obj, now), format_labels(spec.get("selector"))]


def _lb_ingress(svc: dict) -> str:
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ",".join(i.get("ip") or i.get("hostname") or "" for i in ingress if i.get("ip") or i.get("hostname"))


def _external_ip(svc: dict) -> str:
    spec = svc.get("spec") or {}
    external = spec.get("externalIPs") or []
    kind = spec.get("type") or "ClusterIP"
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        lb = _lb_ingress(svc)
        parts = (lb.split(",") if lb else []) + list(external)
        return ",".join(parts) if parts else "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _ports(ports: list) -> str:
    pieces = []
    for p in ports:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            pieces.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            pieces.append(f"{p.get('port')}/{proto}")
    return ",".join(pieces)
