"""Table columns and cells for every catalogue kind other than Pod.

Each entry is (extra columns, cell function); the Name column comes first and,
for most kinds, Age follows the kind's own columns, as upstream lays them out.
Cells are always computed for wide output too: kubectl hides priority-1 columns.
"""
from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Callable

from .humanize import age, doc, format_labels, list_with_more

_CORE = "io.k8s.api.core.v1."


def col(name: str, description: str, type_: str = "string", priority: int = 0, format_: str = "") -> dict:
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


def _join_host_port(ip: str, port: int) -> str:
    try:
        if ipaddress.ip_address(ip).version == 6:
            return f"[{ip}]:{port}"
    except ValueError:
        pass
    return f"{ip}:{port}"


# ---- services ---------------------------------------------------------------

def _lb_ingress(svc: dict) -> str:
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ",".join(i.get("ip") or i.get("hostname") or "" for i in ingress if i.get("ip") or i.get("hostname"))


def _service_external_ip(svc: dict) -> str:
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


def _service_ports(ports: list) -> str:
    pieces = []
    for p in ports:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            pieces.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            pieces.append(f"{p.get('port')}/{proto}")
    return ",".join(pieces)


def _service(obj: dict, now: datetime) -> list:
    spec = obj.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [spec.get("type") or "ClusterIP", ips[0] if ips else "<none>", _service_external_ip(obj),
            _service_ports(spec.get("ports") or []) or "<none>", age(_created(obj), now),
            format_labels(spec.get("selector"))]


# ---- nodes ------------------------------------------------------------------

def _node_roles(labels: dict) -> str:
    roles = set()
    for k, v in labels.items():
        if k.startswith("node-role.kubernetes.io/"):
            role = k[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(obj: dict, kind: str) -> str:
    for a in (obj.get("status") or {}).get("addresses") or []:
        if a.get("type") == kind:
            return a.get("address", "")
    return "<none>"


def _node(obj: dict, now: datetime) -> list:
    status = obj.get("status") or {}
    states = []
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready":
            states = ["Ready" if c.get("status") == "True" else "NotReady"]
    if not states:
        states = ["Unknown"]
    if (obj.get("spec") or {}).get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [",".join(states), _node_roles((obj.get("metadata") or {}).get("labels") or {}), age(_created(obj), now),
            info.get("kubeletVersion", ""), _node_address(obj, "InternalIP"), _node_address(obj, "ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


# ---- events (core/v1 and events.k8s.io/v1 share one printer) ----------------

def _event_fields(obj: dict) -> dict:
    """The core/v1 view of an event whichever API version it came from."""
    if "regarding" in obj or "note" in obj or "deprecatedCount" in obj or obj.get("apiVersion") == "events.k8s.io/v1":
        src = obj.get("deprecatedSource") or {}
        return {"first": obj.get("deprecatedFirstTimestamp"), "last": obj.get("deprecatedLastTimestamp"),
                "eventTime": obj.get("eventTime"), "count": obj.get("deprecatedCount") or 0,
                "series": obj.get("series"), "involved": obj.get("regarding") or {}, "message": obj.get("note") or "",
                "source": src, "type": obj.get("type", ""), "reason": obj.get("reason", "")}
    return {"first": obj.get("firstTimestamp"), "last": obj.get("lastTimestamp"), "eventTime": obj.get("eventTime"),
            "count": obj.get("count") or 0, "series": obj.get("series"), "involved": obj.get("involvedObject") or {},
            "message": obj.get("message") or "", "source": obj.get("source") or {},
            "type": obj.get("type", ""), "reason": obj.get("reason", "")}


def _event(obj: dict, now: datetime) -> list:
    e = _event_fields(obj)
    first = age(e["first"], now) if e["first"] else age(e["eventTime"], now)
    last = age(e["last"], now) if e["last"] else first
    count = e["count"]
    if e["series"]:
        last = age(e["series"].get("lastObservedTime"), now)
        count = e["series"].get("count") or 0
    elif count == 0:
        count = 1
    inv = e["involved"]
    target = (inv.get("kind") or "").lower()
    if inv.get("name"):
        target = f"{target}/{inv['name']}"
    component = e["source"].get("component") or obj.get("reportingController") or ""
    host = e["source"].get("host") or obj.get("reportingInstance") or ""
    source = f"{component}, {host}" if host else component
    return [last, e["type"], e["reason"], target, inv.get("fieldPath", ""), source, e["message"].strip(),
            first, int(count), (obj.get("metadata") or {}).get("name", "")]


# ---- endpoints and slices ----------------------------------------------------

def _endpoints(obj: dict, now: datetime) -> list:
    subsets = obj.get("subsets") or []
    if not subsets:
        return ["<none>", age(_created(obj), now)]
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
    return [list_with_more(shown, count, empty=""), age(_created(obj), now)]


def _endpointslice(obj: dict, now: datetime) -> list:
    ports = []
    for p in obj.get("ports") or []:
        if p.get("port") is not None:
            ports.append(str(p["port"]))
        elif p.get("name") is not None:
            ports.append(p["name"])
        else:
            ports.append("*")
    addrs = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return [obj.get("addressType", ""), list_with_more(ports, len(ports)), list_with_more(addrs, len(addrs)),
            age(_created(obj), now)]


# ---- the rest ------------------------------------------------------------------

def _created(obj: dict) -> str | None:
    return (obj.get("metadata") or {}).get("creationTimestamp")


def _template_parts(template: dict) -> tuple[str, str]:
    containers = ((template or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _rc(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _template_parts(spec.get("template"))
    return [int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1), int(status.get("replicas") or 0),
            int(status.get("readyReplicas") or 0), age(_created(obj), now), names, images,
            format_labels(spec.get("selector"))]


def _podtemplate(obj: dict, now: datetime) -> list:
    template = obj.get("template") or {}
    names, images = _template_parts(template)
    return [names, images, format_labels((template.get("metadata") or {}).get("labels"))]


def _quota(obj: dict, now: datetime) -> list:
    status = obj.get("status") or {}
    hard, used = status.get("hard") or {}, status.get("used") or {}
    requests, limits = [], []
    for name in sorted(hard):
        target = limits if name.split(".")[0] == "limits" and "." in name else requests
        target.append(f"{name}: {used.get(name, '0')}/{hard[name]}")
    return [age(_created(obj), now), ", ".join(requests), ", ".join(limits)]


def _age_only(obj: dict, now: datetime) -> list:
    return [age(_created(obj), now)]


Cells = Callable[[dict, datetime], list]
AGE = "__age__"


def table() -> dict[tuple[str, str], tuple[list, Cells]]:
    """(group, kind) -> (columns after Name, where AGE marks the Age column; cells after Name)."""
    svc = _CORE + "ServiceSpec"
    node_info = _CORE + "NodeSystemInfo"
    ev = _CORE + "Event"
    rc_spec = _CORE + "ReplicationControllerSpec"
    rc_status = _CORE + "ReplicationControllerStatus"
    slice_def = "io.k8s.api.discovery.v1.EndpointSlice"
    containers_doc = "Names of each container in the template."
    images_doc = "Images referenced by each container in the template."
    webhooks = ([col("Webhooks", "Webhooks indicates the number of webhooks registered in this configuration", "integer"), AGE],
                lambda o, now: [len(o.get("webhooks") or []), age(_created(o), now)])
    return {
        ("", "Service"): ([col("Type", doc(svc, "type")), col("Cluster-IP", doc(svc, "clusterIP")),
                          col("External-IP", doc(svc, "externalIPs")), col("Port(s)", doc(svc, "ports")), AGE,
                          col("Selector", doc(svc, "selector"), priority=1)], _service),
        ("", "Node"): ([col("Status", "The status of the node"), col("Roles", "The roles of the node"), AGE,
                       col("Version", doc(node_info, "kubeletVersion")),
                       col("Internal-IP", doc(_CORE + "NodeStatus", "addresses"), priority=1),
                       col("External-IP", doc(_CORE + "NodeStatus", "addresses"), priority=1),
                       col("OS-Image", doc(node_info, "osImage"), priority=1),
                       col("Kernel-Version", doc(node_info, "kernelVersion"), priority=1),
                       col("Container-Runtime", doc(node_info, "containerRuntimeVersion"), priority=1)], _node),
        ("", "Namespace"): ([col("Status", "The status of the namespace"), AGE],
                            lambda o, now: [(o.get("status") or {}).get("phase", ""), age(_created(o), now)]),
        ("", "ConfigMap"): ([col("Data", doc(_CORE + "ConfigMap", "data"), "integer"), AGE],
                            lambda o, now: [len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                            age(_created(o), now)]),
        ("", "Secret"): ([col("Type", doc(_CORE + "Secret", "type")), col("Data", doc(_CORE + "Secret", "data"), "integer"), AGE],
                         lambda o, now: [o.get("type", ""), len(o.get("data") or {}), age(_created(o), now)]),
        ("", "ServiceAccount"): ([col("Secrets", doc(_CORE + "ServiceAccount", "secrets"), "integer"), AGE],
                                 lambda o, now: [len(o.get("secrets") or []), age(_created(o), now)]),
        ("", "Endpoints"): ([col("Endpoints", doc(_CORE + "Endpoints", "subsets")), AGE], _endpoints),
        ("", "ReplicationController"): (
            [col("Desired", doc(rc_spec, "replicas"), "integer"), col("Current", doc(rc_status, "replicas"), "integer"),
             col("Ready", doc(rc_status, "readyReplicas"), "integer"), AGE,
             col("Containers", containers_doc, priority=1), col("Images", images_doc, priority=1),
             col("Selector", doc(rc_spec, "selector"), priority=1)], _rc),
        ("", "PodTemplate"): ([col("Containers", containers_doc), col("Images", images_doc),
                              col("Pod Labels", "The labels for the pod template.")], _podtemplate),
        ("", "LimitRange"): ([col("Created At", doc("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "creationTimestamp"), "date")],
                             lambda o, now: [_created(o) or "<unknown>"]),
        ("", "ResourceQuota"): ([AGE, col("Request", "Request represents a minimum amount of cpu/memory that a container may consume."),
                                col("Limit", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.")],
                               _quota),
        ("", "Event"): ([col("Last Seen", doc(ev, "lastTimestamp")), col("Type", doc(ev, "type")),
                        col("Reason", doc(ev, "reason")), col("Object", doc(ev, "involvedObject")),
                        col("Subobject", doc(_CORE + "ObjectReference", "fieldPath"), priority=1),
                        col("Source", doc(ev, "source"), priority=1), col("Message", doc(ev, "message")),
                        col("First Seen", doc(ev, "firstTimestamp"), priority=1),
                        col("Count", doc(ev, "count"), priority=1),
                        col("Name", doc("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "name"), priority=1, format_="name")],
                       _event),
        ("coordination.k8s.io", "Lease"): ([col("Holder", doc("io.k8s.api.coordination.v1.LeaseSpec", "holderIdentity")), AGE],
                                           lambda o, now: [(o.get("spec") or {}).get("holderIdentity") or "",
                                                           age(_created(o), now)]),
        ("discovery.k8s.io", "EndpointSlice"): ([col("AddressType", doc(slice_def, "addressType")),
                                                 col("Ports", doc(slice_def, "ports")),
                                                 col("Endpoints", doc(slice_def, "endpoints")), AGE], _endpointslice),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): webhooks,
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): webhooks,
        # RBAC bindings (added by the auth APIs engineer): roles print upstream's default Name/Created At.
        ("rbac.authorization.k8s.io", "RoleBinding"): _binding_table(),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _binding_table(),
    }


def _binding_table() -> tuple[list, Cells]:
    def subjects(o: dict, kind: str) -> str:
        out = []
        for s in o.get("subjects") or []:
            if s.get("kind") == kind:
                out.append(f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount"
                           else s.get("name", ""))
        return ", ".join(out)

    def cells(o: dict, now: datetime) -> list:
        ref = o.get("roleRef") or {}
        return [f"{ref.get('kind', '')}/{ref.get('name', '')}", age(_created(o), now),
                subjects(o, "User"), subjects(o, "Group"), subjects(o, "ServiceAccount")]

    return ([col("Role", "Role is the name of the role bound"), AGE, col("Users", "Users in the binding", priority=1),
             col("Groups", "Groups in the binding", priority=1),
             col("ServiceAccounts", "ServiceAccounts in the binding", priority=1)], cells)
