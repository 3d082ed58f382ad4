"""What a Service sheds when its type changes (upstream's dropTypeDependentFields).

`kubectl patch svc x -p '{"spec":{"type":"ClusterIP"}}'` on a NodePort service
leaves the nodePorts in the body; upstream drops the values the client did not
change, so the update is valid and the ports go back to the pool. Pure: used by
validation (on a copy) and by the allocators (on the object being stored).
"""
from __future__ import annotations

_EXTERNAL = ("NodePort", "LoadBalancer")


def needs_cluster_ip(spec: dict) -> bool:
    return (spec.get("type") or "ClusterIP") != "ExternalName" and spec.get("clusterIP") != "None"


def needs_node_ports(spec: dict) -> bool:
    kind = spec.get("type") or "ClusterIP"
    if kind == "NodePort":
        return True
    return kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False


def needs_health_check_port(spec: dict) -> bool:
    return (spec.get("type") == "LoadBalancer") and spec.get("externalTrafficPolicy") == "Local"


def drop_type_dependent_fields(new: dict, old: dict) -> None:
    spec, old_spec = new.get("spec"), old.get("spec") or {}
    if not isinstance(spec, dict):
        return
    kind, old_kind = spec.get("type") or "ClusterIP", old_spec.get("type") or "ClusterIP"
    if kind == old_kind:
        return
    if kind == "ExternalName":
        if spec.get("clusterIP") == old_spec.get("clusterIP"):
            for f in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                spec.pop(f, None)
        if spec.get("internalTrafficPolicy") == old_spec.get("internalTrafficPolicy"):
            spec.pop("internalTrafficPolicy", None)
    if kind not in _EXTERNAL:
        old_ports = {(p.get("port"), p.get("protocol")): p.get("nodePort") for p in old_spec.get("ports") or []}
        for p in spec.get("ports") or []:
            if p.get("nodePort") and old_ports.get((p.get("port"), p.get("protocol"))) == p.get("nodePort"):
                del p["nodePort"]
        if spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy"):
            spec.pop("externalTrafficPolicy", None)
    if kind != "LoadBalancer":
        for f in ("healthCheckNodePort", "allocateLoadBalancerNodePorts", "loadBalancerClass"):
            if spec.get(f) == old_spec.get(f):
                spec.pop(f, None)
