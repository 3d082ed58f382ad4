"""What the proxy programs, computed from Services and EndpointSlices (pure, no I/O).

One ServicePort per (Service, port): its addresses, and the endpoints that take
traffic on the cluster path (ClusterIP) and on the external path (NodePort,
LoadBalancer). Endpoint choice follows upstream: ready endpoints; when none is
ready, the serving-and-terminating ones; `Local` traffic policies keep only the
endpoints on this node.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Services the proxy leaves alone: no address of its own to program.
_SKIPPED_TYPES = ("ExternalName",)


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    node: str | None = None


@dataclass(frozen=True)
class ServicePort:
    namespace: str
    name: str
    port_name: str
    protocol: str           # "tcp" | "udp" | "sctp" (nft's spelling)
    cluster_ip: str
    port: int
    node_port: int = 0
    lb_ips: tuple[str, ...] = ()
    affinity_timeout: int = 0          # seconds; 0: no ClientIP affinity
    external_local: bool = False       # externalTrafficPolicy: Local
    cluster_endpoints: tuple[Endpoint, ...] = ()
    external_endpoints: tuple[Endpoint, ...] = ()

    @property
    def key(self) -> str:
        """ns/name/proto/portname, as upstream names its chains."""
        return f"{self.namespace}/{self.name}/{self.protocol}/{self.port_name}"


@dataclass
class Snapshot:
    """Everything one sync programs."""
    ports: list[ServicePort] = field(default_factory=list)


def _ready_endpoints(slices: list[dict], port_name: str, protocol: str) -> list[tuple[Endpoint, dict]]:
    out = []
    seen = set()
    for s in slices:
        if s.get("addressType", "IPv4") != "IPv4":
            continue
        port = next((p for p in s.get("ports") or []
                     if (p.get("name") or "") == port_name and (p.get("protocol") or "TCP").lower() == protocol),
                    None)
        if port is None or not port.get("port"):
            continue
        for ep in s.get("endpoints") or []:
            addrs = ep.get("addresses") or []
            if not addrs:
                continue
            e = Endpoint(addrs[0], int(port["port"]), ep.get("nodeName"))
            if e in seen:
                continue
            seen.add(e)
            out.append((e, ep.get("conditions") or {}))
    return out


def usable_endpoints(slices: list[dict], port_name: str, protocol: str) -> list[Endpoint]:
    """Ready endpoints; if there are none, serving+terminating ones (upstream's fallback)."""
    eps = _ready_endpoints(slices, port_name, protocol)
    ready = [e for e, c in eps if c.get("ready", True) is not False]
    if ready:
        return sorted(ready, key=lambda e: (e.ip, e.port))
    fallback = [e for e, c in eps if c.get("serving") and c.get("terminating")]
    return sorted(fallback, key=lambda e: (e.ip, e.port))


def service_ports(service: dict, slices: list[dict], node_name: str) -> list[ServicePort]:
    spec = service.get("spec") or {}
    meta = service.get("metadata") or {}
    if spec.get("type") in _SKIPPED_TYPES:
        return []
    cluster_ip = spec.get("clusterIP") or ""
    if not cluster_ip or cluster_ip == "None":
        return []
    affinity = 0
    if spec.get("sessionAffinity") == "ClientIP":
        cfg = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
        affinity = int(cfg.get("timeoutSeconds") or 10800)
    lb_ips = tuple(i["ip"] for i in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
                   if i.get("ip")) if spec.get("type") == "LoadBalancer" else ()
    external_local = spec.get("externalTrafficPolicy") == "Local" and spec.get("type") in ("NodePort", "LoadBalancer")
    internal_local = spec.get("internalTrafficPolicy") == "Local"
    out = []
    for p in spec.get("ports") or []:
        proto = (p.get("protocol") or "TCP").lower()
        eps = usable_endpoints(slices, p.get("name") or "", proto)
        local = tuple(e for e in eps if e.node == node_name)
        out.append(ServicePort(
            namespace=meta.get("namespace", ""), name=meta.get("name", ""), port_name=p.get("name") or "",
            protocol=proto, cluster_ip=cluster_ip, port=int(p["port"]),
            node_port=int(p.get("nodePort") or 0) if spec.get("type") in ("NodePort", "LoadBalancer") else 0,
            lb_ips=lb_ips, affinity_timeout=affinity, external_local=external_local,
            cluster_endpoints=local if internal_local else tuple(eps),
            external_endpoints=local if external_local else tuple(eps)))
    return out


def snapshot(services: list[dict], slices_by_service: dict[str, list[dict]], node_name: str) -> Snapshot:
    """services: Service objects; slices_by_service: 'ns/name' -> its EndpointSlices."""
    snap = Snapshot()
    for svc in services:
        meta = svc.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        snap.ports.extend(service_ports(svc, slices_by_service.get(key, []), node_name))
    snap.ports.sort(key=lambda sp: sp.key)
    return snap
