"""Per-kind defaults (everything but the PodSpec itself, which podspec.py owns)."""
from __future__ import annotations

import base64

from . import podspec


def _d(obj: dict, key: str) -> dict:
    """obj[key] as a dict, created when absent (or null)."""
    v = obj.get(key)
    if not isinstance(v, dict):
        v = obj[key] = {}
    return v


def pod(obj: dict) -> None:
    spec = _d(obj, "spec")
    podspec.pod_spec(spec)
    status = _d(obj, "status")
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", podspec.qos_class(spec))


def _template(template: dict | None) -> None:
    if isinstance(template, dict):
        podspec.pod_spec(_d(template, "spec"))


def podtemplate(obj: dict) -> None:
    _template(obj.get("template"))


def replicationcontroller(obj: dict) -> None:
    spec = _d(obj, "spec")
    template = spec.get("template")
    labels = ((template or {}).get("metadata") or {}).get("labels") or {}
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = _d(obj, "metadata")
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    spec.setdefault("replicas", 1)
    _template(template)


def service(obj: dict) -> None:
    spec = _d(obj, "spec")
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        cfg = _d(_d(spec, "sessionAffinityConfig"), "clientIP")
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
    status = _d(obj, "status")
    status.setdefault("loadBalancer", {})


def namespace(obj: dict) -> None:
    meta = _d(obj, "metadata")
    name = meta.get("name")
    if name:
        _d(meta, "labels")["kubernetes.io/metadata.name"] = name
    spec = _d(obj, "spec")
    if "finalizers" not in spec:
        spec["finalizers"] = ["kubernetes"]
    _d(obj, "status").setdefault("phase", "Active")


def secret(obj: dict) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"
    # stringData is write-only: upstream's v1 -> internal conversion folds it into data
    # (base64, overwriting same-named keys) and never stores or returns it.
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode()
        if data:
            obj["data"] = data


def node(obj: dict) -> None:
    status = obj.get("status")
    if isinstance(status, dict) and status.get("capacity") and not status.get("allocatable"):
        status["allocatable"] = dict(status["capacity"])


def endpoints(obj: dict) -> None:
    for ss in obj.get("subsets") or []:
        for p in ss.get("ports") or []:
            p.setdefault("protocol", "TCP")


def endpointslice(obj: dict) -> None:
    for p in obj.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("name", "")


def limitrange(obj: dict) -> None:
    for item in (obj.get("spec") or {}).get("limits") or []:
        if item.get("type") != "Container":
            continue
        default = dict(item.get("default") or {})
        request = dict(item.get("defaultRequest") or {})
        for k, v in (item.get("max") or {}).items():
            default.setdefault(k, v)
        for k, v in default.items():
            request.setdefault(k, v)
        for k, v in (item.get("min") or {}).items():
            request.setdefault(k, v)
        if default:
            item["default"] = default
        if request:
            item["defaultRequest"] = request


def webhook_configuration(obj: dict, mutating: bool) -> None:
    for w in obj.get("webhooks") or []:
        w.setdefault("failurePolicy", "Fail")
        w.setdefault("matchPolicy", "Equivalent")
        w.setdefault("namespaceSelector", {})
        w.setdefault("objectSelector", {})
        w.setdefault("timeoutSeconds", 10)
        if mutating:
            w.setdefault("reinvocationPolicy", "Never")
        for r in w.get("rules") or []:
            r.setdefault("scope", "*")
        svc = (w.get("clientConfig") or {}).get("service")
        if isinstance(svc, dict):
            svc.setdefault("port", 443)
