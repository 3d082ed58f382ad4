"""Which pods back a Service and on which ports: the pure part shared by the
Endpoints and EndpointSlice controllers."""
from __future__ import annotations

from .selectors import matches_labels


def pod_ready(pod: dict) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def pod_ip(pod: dict) -> str | None:
    return (pod.get("status") or {}).get("podIP") or None


def selected_pods(service: dict, pods: list[dict]) -> list[dict]:
    """Pods the Service selects that have an IP and have not finished."""
    selector = (service.get("spec") or {}).get("selector")
    return [p for p in pods if matches_labels(selector, p["metadata"].get("labels"))
            and pod_ip(p) and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]


def resolve_target_port(service_port: dict, pod: dict) -> int | None:
    """A numeric targetPort is taken as is; a named one is looked up in the pod's containers."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and (p.get("protocol") or "TCP") == protocol:
                return p.get("containerPort")
    return None


def pod_ports(service: dict, pod: dict) -> tuple[tuple[str, int, str], ...]:
    """The (name, port, protocol) the pod serves for each Service port it can resolve."""
    out = []
    for sp in (service.get("spec") or {}).get("ports") or []:
        port = resolve_target_port(sp, pod)
        if port is not None:
            out.append((sp.get("name") or "", port, sp.get("protocol") or "TCP"))
    return tuple(sorted(out))


def target_ref(pod: dict) -> dict:
    m = pod["metadata"]
    return {"kind": "Pod", "namespace": m["namespace"], "name": m["name"], "uid": m.get("uid", "")}


def endpoint_hostname(service: dict, pod: dict) -> str | None:
    """The pod's hostname when its subdomain names this Service (upstream's
    ShouldSetHostname): what gives it <hostname>.<service>.<ns>.svc in the cluster DNS."""
    spec = pod.get("spec") or {}
    same_ns = pod["metadata"].get("namespace") == service["metadata"].get("namespace")
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"] and same_ns:
        return spec["hostname"]
    return None


def endpoint_subsets(service: dict, pods: list[dict]) -> list[dict]:
    """Endpoints.subsets: pods grouped by the ports they resolve to, ready and not
    ready addresses apart, terminating pods left out, sorted for stable output."""
    publish_all = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[tuple, tuple[list, list]] = {}
    for pod in selected_pods(service, pods):
        if pod["metadata"].get("deletionTimestamp") and not publish_all:
            continue
        ports = pod_ports(service, pod)
        if (service.get("spec") or {}).get("ports") and not ports:
            continue
        addr = {"ip": pod_ip(pod), "targetRef": target_ref(pod)}
        if endpoint_hostname(service, pod):
            addr["hostname"] = endpoint_hostname(service, pod)
        if (pod.get("spec") or {}).get("nodeName"):
            addr["nodeName"] = pod["spec"]["nodeName"]
        ready, not_ready = groups.setdefault(ports, ([], []))
        (ready if publish_all or pod_ready(pod) else not_ready).append(addr)
    subsets = []
    for ports, (ready, not_ready) in sorted(groups.items()):
        subset: dict = {}
        if ready:
            subset["addresses"] = sorted(ready, key=lambda a: a["ip"])
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=lambda a: a["ip"])
        if ports:
            subset["ports"] = [{**({"name": n} if n else {}), "port": p, "protocol": proto} for n, p, proto in ports]
        subsets.append(subset)
    return subsets
