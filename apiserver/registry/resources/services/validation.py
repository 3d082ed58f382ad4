"""Service rules (upstream's ValidateService / ValidateServiceUpdate, the usual parts).

Whether a requested clusterIP or nodePort is free is the allocators' question,
asked later with the store in hand; here only shape and consistency."""
from __future__ import annotations

from apiserver.machinery import names
from apiserver.machinery.errors import Cause

from apiserver.registry.validation import field, meta
from apiserver.registry.validation.ips import is_ip

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
AFFINITIES = ("ClientIP", "None")
PROTOCOLS = ("SCTP", "TCP", "UDP")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")


def _ports(spec: dict, kind: str) -> list[Cause]:
    causes: list[Cause] = []
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    if not ports and not headless and kind != "ExternalName":
        causes.append(field.required("spec.ports", ""))
    seen_names: set[str] = set()
    seen_ports: set[tuple] = set()
    for path, p in field.objects(ports, "spec.ports"):
        name = p.get("name") or ""
        if len(ports) > 1 and not name:
            causes.append(field.required(field.child(path, "name"), ""))
        elif name:
            causes += field.unique_name(field.child(path, "name"), name, seen_names, names.is_dns1123_label)
        port = p.get("port")
        if port is None:
            causes.append(field.required(field.child(path, "port"), ""))
        elif isinstance(port, int):
            causes += field.each_invalid(field.child(path, "port"), port, names.is_valid_port_num(port))
        proto = p.get("protocol")
        causes += field.supported(field.child(path, "protocol"), proto, PROTOCOLS)
        target = p.get("targetPort")
        if isinstance(target, int) and not isinstance(target, bool):
            causes += field.each_invalid(field.child(path, "targetPort"), target, names.is_valid_port_num(target))
        elif isinstance(target, str) and target:
            causes += field.each_invalid(field.child(path, "targetPort"), target, names.is_valid_port_name(target))
        node_port = p.get("nodePort")
        if node_port:
            if kind in ("ClusterIP", "ExternalName"):
                causes.append(field.forbidden(field.child(path, "nodePort"), f"may not be used when `type` is '{kind}'"))
            elif isinstance(node_port, int):
                causes += field.each_invalid(field.child(path, "nodePort"), node_port, names.is_valid_port_num(node_port))
        key = (port, proto or "TCP")
        if key in seen_ports:
            causes.append(field.duplicate(path, {"port": port, "protocol": proto or "TCP"}))
        seen_ports.add(key)
    return causes


def validate_service(svc: dict) -> list[Cause]:
    spec = svc.get("spec")
    if not isinstance(spec, dict):
        return [field.required("spec", "")]
    causes: list[Cause] = []
    kind = spec.get("type") or "ClusterIP"
    causes += field.supported("spec.type", spec.get("type"), SERVICE_TYPES)
    causes += field.supported("spec.sessionAffinity", spec.get("sessionAffinity"), AFFINITIES)
    causes += field.supported("spec.internalTrafficPolicy", spec.get("internalTrafficPolicy"), TRAFFIC_POLICIES)
    causes += field.supported("spec.ipFamilyPolicy", spec.get("ipFamilyPolicy"), IP_FAMILY_POLICIES)
    if spec.get("externalTrafficPolicy") is not None:
        if kind in ("ClusterIP", "ExternalName"):
            causes.append(field.invalid("spec.externalTrafficPolicy", spec["externalTrafficPolicy"],
                                        "may only be set for externally-accessible services"))
        else:
            causes += field.supported("spec.externalTrafficPolicy", spec["externalTrafficPolicy"], TRAFFIC_POLICIES)
    causes += _ports(spec, kind)
    cluster_ip = spec.get("clusterIP") or ""
    ips = spec.get("clusterIPs") or []
    if kind == "ExternalName":
        ext = spec.get("externalName") or ""
        if not ext:
            causes.append(field.required("spec.externalName", ""))
        else:
            causes += field.each_invalid("spec.externalName", ext, names.is_dns1123_subdomain(ext.rstrip(".")))
        if cluster_ip and cluster_ip != "None":
            causes.append(field.forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
    else:
        if cluster_ip and ips and ips[0] != cluster_ip:
            causes.append(field.invalid("spec.clusterIPs", ips, "element [0] must match clusterIP"))
        for i, ip in enumerate(ips or ([cluster_ip] if cluster_ip else [])):
            p = field.index("spec.clusterIPs", i)
            if ip == "None":
                if i > 0 or kind in ("NodePort", "LoadBalancer"):
                    causes.append(field.invalid(p, ip, f"may not be set to 'None' for {kind} services"))
            elif ip and not is_ip(ip):
                causes.append(field.invalid(p, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
    for i, ip in enumerate(spec.get("externalIPs") or []):
        if not is_ip(ip):
            causes.append(field.invalid(field.index("spec.externalIPs", i), ip,
                                        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
    for fam_i, fam in enumerate(spec.get("ipFamilies") or []):
        causes += field.supported(field.index("spec.ipFamilies", fam_i), fam, ("IPv4", "IPv6"))
    causes += meta.validate_labels(spec.get("selector"), "spec.selector")
    cfg = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
    timeout = cfg.get("timeoutSeconds")
    if isinstance(timeout, int) and not 0 < timeout <= 86400:
        causes.append(field.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                                    "must be greater than 0 and less than 86400"))
    return causes


def validate_service_update(new: dict, old: dict) -> list[Cause]:
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    causes: list[Cause] = []
    kind, old_kind = spec.get("type") or "ClusterIP", old_spec.get("type") or "ClusterIP"
    if "ExternalName" not in (kind, old_kind):
        old_ip, new_ip = old_spec.get("clusterIP"), spec.get("clusterIP")
        if old_ip and new_ip and new_ip != old_ip:
            causes.append(field.invalid("spec.clusterIPs[0]", new_ip, "may not change once set"))
    return causes
