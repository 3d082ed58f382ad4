"""Rules for the smaller kinds: Namespace, Node, Event, Endpoints, EndpointSlice,
ReplicationController, PodTemplate, LimitRange, ResourceQuota, Lease, webhooks."""
from __future__ import annotations

import ipaddress

from apiserver.machinery import names
from apiserver.machinery.errors import Cause

from . import field, meta, pods, quantities

TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")


def _is_ip(value, version: int | None = None) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except (ValueError, TypeError):
        return False
    return version is None or ip.version == version


def _supported(value, allowed, path: str) -> list[Cause]:
    return [] if value is None or value in allowed else [field.not_supported(path, value, allowed)]


def _non_negative(obj: dict, key: str, path: str) -> list[Cause]:
    v = obj.get(key)
    if isinstance(v, int) and v < 0:
        return [field.invalid(path, v, "must be greater than or equal to 0")]
    return []


def validate_namespace(ns: dict) -> list[Cause]:
    spec = ns.get("spec") or {}
    return meta.validate_finalizers(spec.get("finalizers"), "spec.finalizers")


def validate_node(node: dict) -> list[Cause]:
    spec = node.get("spec") or {}
    causes: list[Cause] = []
    for i, t in enumerate(spec.get("taints") or []):
        p = field.index("spec.taints", i)
        if not isinstance(t, dict):
            continue
        key = t.get("key") or ""
        if not key:
            causes.append(field.required(field.child(p, "key"), ""))
        else:
            causes += field.each_invalid(field.child(p, "key"), key, names.is_qualified_name(key))
        if t.get("value"):
            causes += field.each_invalid(field.child(p, "value"), t["value"], names.is_valid_label_value(t["value"]))
        if not t.get("effect"):
            causes.append(field.required(field.child(p, "effect"), ""))
        else:
            causes += _supported(t["effect"], TAINT_EFFECTS, field.child(p, "effect"))
    for i, cidr in enumerate(spec.get("podCIDRs") or []):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except (ValueError, TypeError):
            causes.append(field.invalid(field.index("spec.podCIDRs", i), cidr,
                                        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
    return causes


def validate_core_event(ev: dict) -> list[Cause]:
    causes: list[Cause] = []
    inv = ev.get("involvedObject") or {}
    ns = (ev.get("metadata") or {}).get("namespace") or ""
    if inv.get("namespace") and ns and inv["namespace"] != ns:
        causes.append(field.invalid("involvedObject.namespace", inv["namespace"], "does not match event.namespace"))
    causes += _supported(ev.get("type") or None, ("Normal", "Warning"), "type")
    return causes


def validate_events_event(ev: dict) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("eventTime", "reportingController", "reportingInstance", "action", "reason"):
        if not ev.get(key):
            causes.append(field.required(key, ""))
    causes += _supported(ev.get("type") or None, ("Normal", "Warning"), "type")
    if not ev.get("type"):
        causes.append(field.required("type", ""))
    return causes


def _endpoint_ports(ports, path: str, name_required: bool) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, p in enumerate(ports or []):
        pp = field.index(path, i)
        if not isinstance(p, dict):
            continue
        name = p.get("name") or ""
        if name_required and len(ports) > 1 and not name:
            causes.append(field.required(field.child(pp, "name"), ""))
        if name:
            causes += field.each_invalid(field.child(pp, "name"), name, names.is_dns1123_label(name))
            if name in seen:
                causes.append(field.duplicate(field.child(pp, "name"), name))
            seen.add(name)
        port = p.get("port")
        if isinstance(port, int):
            causes += field.each_invalid(field.child(pp, "port"), port, names.is_valid_port_num(port))
        causes += _supported(p.get("protocol"), ("SCTP", "TCP", "UDP"), field.child(pp, "protocol"))
    return causes


def validate_endpoints(ep: dict) -> list[Cause]:
    causes: list[Cause] = []
    for i, ss in enumerate(ep.get("subsets") or []):
        p = field.index("subsets", i)
        if not isinstance(ss, dict):
            continue
        for key in ("addresses", "notReadyAddresses"):
            for j, a in enumerate(ss.get(key) or []):
                ip = (a or {}).get("ip") or ""
                if not _is_ip(ip):
                    causes.append(field.invalid(field.child(field.index(field.child(p, key), j), "ip"), ip,
                                                "must be a valid IP address"))
        causes += _endpoint_ports(ss.get("ports"), field.child(p, "ports"), True)
    return causes


def validate_endpointslice(es: dict) -> list[Cause]:
    causes: list[Cause] = []
    kind = es.get("addressType")
    if not kind:
        causes.append(field.required("addressType", ""))
    else:
        causes += _supported(kind, ("FQDN", "IPv4", "IPv6"), "addressType")
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
            if kind == "IPv4" and not _is_ip(a, 4):
                causes.append(field.invalid(ap, a, "must be a valid IPv4 address"))
            elif kind == "IPv6" and not _is_ip(a, 6):
                causes.append(field.invalid(ap, a, "must be a valid IPv6 address"))
            elif kind == "FQDN":
                causes += field.each_invalid(ap, a, names.is_dns1123_subdomain(a))
    if len(es.get("ports") or []) > 20000:
        causes.append(field.too_many("ports", len(es["ports"]), 20000))
    causes += _endpoint_ports(es.get("ports"), "ports", False)
    return causes


def _template(template, path: str, selector: dict | None) -> list[Cause]:
    if not isinstance(template, dict):
        return [field.required(path, "")]
    causes: list[Cause] = []
    labels = (template.get("metadata") or {}).get("labels") or {}
    causes += meta.validate_labels(labels, field.child(path, "metadata.labels"))
    if selector and any(labels.get(k) != v for k, v in selector.items()):
        causes.append(field.invalid(field.child(path, "metadata.labels"), labels,
                                    "`selector` does not match template `labels`"))
    spec = template.get("spec") or {}
    causes += pods.validate_pod_spec(spec, field.child(path, "spec"))
    return causes


def validate_rc(rc: dict) -> list[Cause]:
    spec = rc.get("spec") or {}
    causes = _non_negative(spec, "replicas", "spec.replicas") + _non_negative(spec, "minReadySeconds", "spec.minReadySeconds")
    selector = spec.get("selector") or {}
    if not selector:
        causes.append(field.required("spec.selector", ""))
    causes += meta.validate_labels(selector, "spec.selector")
    causes += _template(spec.get("template"), "spec.template", selector)
    policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    if policy and policy != "Always":
        causes.append(field.not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
    return causes


def validate_podtemplate(pt: dict) -> list[Cause]:
    return _template(pt.get("template"), "template", None)


def validate_limitrange(lr: dict) -> list[Cause]:
    causes: list[Cause] = []
    for i, item in enumerate((lr.get("spec") or {}).get("limits") or []):
        p = field.index("spec.limits", i)
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        causes += _supported(kind, ("Container", "PersistentVolumeClaim", "Pod"), field.child(p, "type"))
        parsed = {}
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            causes += quantities.validate_resource_list(item.get(key), field.child(p, key))
            parsed[key] = {k: quantities.parse(v) for k, v in (item.get(key) or {}).items()}
        if kind == "Pod" and (item.get("default") or item.get("defaultRequest")):
            which = "default" if item.get("default") else "defaultRequest"
            causes.append(field.forbidden(field.child(p, which), "may not be specified when `type` is 'Pod'"))
        for name, lo in parsed["min"].items():
            hi = parsed["max"].get(name)
            if lo is not None and hi is not None and lo > hi:
                causes.append(field.invalid(field.key(field.child(p, "min"), name), item["min"][name],
                                            f"min value {item['min'][name]} is greater than max value {item['max'][name]}"))
        for key in ("defaultRequest", "default"):
            for name, v in parsed[key].items():
                lo, hi = parsed["min"].get(name), parsed["max"].get(name)
                shown = item[key][name]
                if v is not None and lo is not None and v < lo:
                    causes.append(field.invalid(field.key(field.child(p, key), name), shown,
                                                f"min value {item['min'][name]} is greater than {key} value {shown}"))
                if v is not None and hi is not None and v > hi:
                    causes.append(field.invalid(field.key(field.child(p, key), name), shown,
                                                f"{key} value {shown} is greater than max value {item['max'][name]}"))
    return causes


QUOTA_SCOPES = ("BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass", "Terminating")


def validate_resourcequota(rq: dict) -> list[Cause]:
    spec = rq.get("spec") or {}
    causes: list[Cause] = []
    for name in spec.get("hard") or {}:
        causes += field.each_invalid(field.key("spec.hard", name), name, names.is_qualified_name(name))
    causes += quantities.validate_resource_list(spec.get("hard"), "spec.hard")
    for i, s in enumerate(spec.get("scopes") or []):
        causes += _supported(s, QUOTA_SCOPES, field.index("spec.scopes", i))
    return causes


def validate_lease(lease: dict) -> list[Cause]:
    spec = lease.get("spec") or {}
    causes: list[Cause] = []
    d = spec.get("leaseDurationSeconds")
    if isinstance(d, int) and d <= 0:
        causes.append(field.invalid("spec.leaseDurationSeconds", d, "must be greater than 0"))
    causes += _non_negative(spec, "leaseTransitions", "spec.leaseTransitions")
    return causes


def validate_webhooks(cfg: dict) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, w in enumerate(cfg.get("webhooks") or []):
        p = field.index("webhooks", i)
        if not isinstance(w, dict):
            continue
        name = w.get("name") or ""
        if not name:
            causes.append(field.required(field.child(p, "name"), ""))
        else:
            causes += field.each_invalid(field.child(p, "name"), name, names.is_dns1123_subdomain(name))
            if name.count(".") < 2 and not names.is_dns1123_subdomain(name):
                pass
            elif name.count(".") < 2:
                causes.append(field.invalid(field.child(p, "name"), name,
                                            "should be a domain with at least three segments separated by dots"))
            if name in seen:
                causes.append(field.duplicate(field.child(p, "name"), name))
            seen.add(name)
        cc = w.get("clientConfig") or {}
        if bool(cc.get("url")) == bool(cc.get("service")):
            causes.append(field.required(field.child(p, "clientConfig"), "exactly one of url or service is required"))
        if not w.get("admissionReviewVersions"):
            causes.append(field.required(field.child(p, "admissionReviewVersions"), ""))
        causes += _supported(w.get("sideEffects"), ("None", "NoneOnDryRun"), field.child(p, "sideEffects"))
        if w.get("sideEffects") is None:
            causes.append(field.required(field.child(p, "sideEffects"), ""))
        causes += _supported(w.get("failurePolicy"), ("Fail", "Ignore"), field.child(p, "failurePolicy"))
        t = w.get("timeoutSeconds")
        if isinstance(t, int) and not 1 <= t <= 30:
            causes.append(field.invalid(field.child(p, "timeoutSeconds"), t, "the timeout value must be between 1 and 30 seconds"))
    return causes
