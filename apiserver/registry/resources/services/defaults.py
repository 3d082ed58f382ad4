"""Service defaults (upstream's SetDefaults_Service). Cluster IPs and node ports
are not defaults: the allocators hand them out when the Service is written."""
from __future__ import annotations

from apiserver.registry.defaulting import dict_at


def default_service(obj: dict) -> None:
    spec = dict_at(obj, "spec")
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        cfg = dict_at(dict_at(spec, "sessionAffinityConfig"), "clientIP")
        cfg.setdefault("timeoutSeconds", 10800)
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        if p.get("targetPort") in (None, 0, "") and "port" in p:
            p["targetPort"] = p["port"]
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if kind != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        headless_no_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
        # Single-stack IPv4 cluster: selectorless headless services still ask for
        # dual stack (they may list endpoints of either family), as upstream does.
        spec.setdefault("ipFamilyPolicy", "RequireDualStack" if headless_no_selector else "SingleStack")
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]
    status = dict_at(obj, "status")
    status.setdefault("loadBalancer", {})
