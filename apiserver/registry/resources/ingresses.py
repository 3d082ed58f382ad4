"""Ingresses and IngressClasses (networking.k8s.io/v1): stored and validated as
upstream validates them; nothing acts on them until an ingress controller is
installed (as on a kubeadm cluster)."""
from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

GROUP = "networking.k8s.io"
_V1 = "io.k8s.api.networking.v1."
PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
_BAD_PATH_PARTS = ("//", "/./", "/../", "%2f", "%2F")
_CONTROLLER_PATH = re.compile(r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+")
MAX_CONTROLLER_LENGTH = 250


def _host_errors(host: str) -> list[str]:
    """A rule or TLS host: a DNS subdomain, or one with a leading `*.` label; never an IP."""
    try:
        ipaddress.ip_address(host)
        return ["must be a DNS name, not an IP address"]
    except ValueError:
        pass
    if host.startswith("*."):
        return names.is_dns1123_subdomain(host[2:])
    return names.is_dns1123_subdomain(host)


def _backend(b, path: str) -> list[Cause]:
    if not isinstance(b, dict):
        return []
    svc, res = b.get("service"), b.get("resource")
    if svc is not None and res is not None:
        return [field.invalid(path, "", "cannot set both resource and service backends")]
    if svc is None and res is None:
        return [field.invalid(path, "", "resource or service backend is required")]
    if res is not None:
        return []
    sp = field.child(path, "service")
    causes = field.each_invalid(field.child(sp, "name"), svc.get("name", ""),
                                names.is_dns1035_label(svc.get("name") or ""))
    port = svc.get("port") or {}
    pp = field.child(sp, "port")
    if port.get("name") and port.get("number"):
        causes.append(field.invalid(pp, "", "cannot set both port name & port number"))
    elif port.get("name"):
        causes += field.each_invalid(field.child(pp, "name"), port["name"], names.is_valid_port_name(port["name"]))
    elif port.get("number") is not None:
        causes += field.each_invalid(field.child(pp, "number"), port["number"],
                                     names.is_valid_port_num(port["number"]))
    else:
        causes.append(field.required(pp, "port name or number is required"))
    return causes


def _path(p: dict, path: str) -> list[Cause]:
    kind = p.get("pathType")
    value = p.get("path") or ""
    pp = field.child(path, "path")
    if kind is None:
        causes = [field.required(field.child(path, "pathType"), "pathType must be specified")]
    else:
        causes = field.supported(field.child(path, "pathType"), kind, PATH_TYPES)
    if kind in ("Exact", "Prefix"):
        if not value.startswith("/"):
            causes.append(field.invalid(pp, value, "must be an absolute path"))
        for part in _BAD_PATH_PARTS:
            if part in value:
                causes.append(field.invalid(pp, value, f"must not contain '{part}'"))
        for end in ("/..", "/."):
            if value.endswith(end):
                causes.append(field.invalid(pp, value, f"cannot end with '{end}'"))
    elif value and not value.startswith("/"):
        causes.append(field.invalid(pp, value, "must be an absolute path"))
    return causes + _backend(p.get("backend"), field.child(path, "backend"))


class IngressStrategy(Strategy):
    serves = ((GROUP, "ingresses"),)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        rules = spec.get("rules") or []
        causes: list[Cause] = []
        if not rules and spec.get("defaultBackend") is None:
            causes.append(field.invalid("spec", "", "either `defaultBackend` or `rules` must be specified"))
        if spec.get("defaultBackend") is not None:
            causes += _backend(spec["defaultBackend"], "spec.defaultBackend")
        if spec.get("ingressClassName") is not None:
            causes += field.each_invalid("spec.ingressClassName", spec["ingressClassName"],
                                         names.is_dns1123_subdomain(spec["ingressClassName"]))
        for i, rule in enumerate(rules):
            rp = field.index("spec.rules", i)
            if not isinstance(rule, dict):
                continue
            if rule.get("host"):
                causes += field.each_invalid(field.child(rp, "host"), rule["host"], _host_errors(rule["host"]))
            http = rule.get("http")
            if http is None:
                continue
            paths = http.get("paths") or []
            if not paths:
                causes.append(field.required(field.child(rp, "http.paths"), ""))
            for j, p in enumerate(paths):
                if isinstance(p, dict):
                    causes += _path(p, field.index(field.child(rp, "http.paths"), j))
        for i, tls in enumerate(spec.get("tls") or []):
            for j, host in enumerate((tls or {}).get("hosts") or []):
                causes += field.each_invalid(field.index(field.child(field.index("spec.tls", i), "hosts"), j),
                                             host, _host_errors(host))
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Class", doc(_V1 + "IngressSpec", "ingressClassName")),
                col("Hosts", doc(_V1 + "IngressRule", "host")),
                col("Address", doc(_V1 + "IngressStatus", "loadBalancer")),
                col("Ports", "Ports of TLS configurations that open"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        hosts = [r.get("host") or "*" for r in spec.get("rules") or [] if isinstance(r, dict)]
        shown = ",".join(hosts[:3]) + (f" + {len(hosts) - 3} more..." if len(hosts) > 3 else "") if hosts else "*"
        lb = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        address = ",".join(i.get("ip") or i.get("hostname") or "" for i in lb if isinstance(i, dict))
        return [name_of(obj), spec.get("ingressClassName") or "<none>", shown, address,
                "80, 443" if spec.get("tls") else "80", age_of(obj, now)]


def _controller_errors(controller: str) -> list[str]:
    """upstream's IsDomainPrefixedPath: `<DNS subdomain>/<path>`."""
    host, slash, rest = controller.partition("/")
    if not slash or not rest:
        return ["must be a domain-prefixed path (such as \"acme.io/foo\")"]
    errs = names.is_dns1123_subdomain(host)
    if not _CONTROLLER_PATH.fullmatch(rest):
        errs.append(f"path must match the regex {_CONTROLLER_PATH.pattern}")
    return errs


class IngressClassStrategy(Strategy):
    serves = ((GROUP, "ingressclasses"),)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        controller = spec.get("controller") or ""
        causes: list[Cause] = []
        if not controller:
            causes.append(field.required("spec.controller", ""))
        elif len(controller) > MAX_CONTROLLER_LENGTH:
            causes.append(field.too_long("spec.controller", MAX_CONTROLLER_LENGTH))
        else:
            causes += field.each_invalid("spec.controller", controller, _controller_errors(controller))
        params = spec.get("parameters")
        if isinstance(params, dict):
            causes += _parameters(params, "spec.parameters")
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        nc, oc = (new.get("spec") or {}).get("controller"), (old.get("spec") or {}).get("controller")
        return [field.immutable("spec.controller", nc)] if nc != oc else []

    def columns(self) -> list[dict]:
        return [name_column(), col("Controller", doc(_V1 + "IngressClassSpec", "controller")),
                col("Parameters", doc(_V1 + "IngressClassSpec", "parameters")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        params = spec.get("parameters")
        shown = "<none>"
        if isinstance(params, dict):
            shown = params.get("kind", "") + ("." + params["apiGroup"] if params.get("apiGroup") else "")
            shown += "/" + params.get("name", "")
        return [name_of(obj), spec.get("controller", ""), shown, age_of(obj, now)]


def _parameters(params: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("kind", "name"):
        if not params.get(key):
            causes.append(field.required(field.child(path, key), ""))
    scope = params.get("scope")
    if scope is None:
        if params.get("namespace") is not None:
            causes.append(field.forbidden(field.child(path, "namespace"),
                                          "`parameters.scope` must be set if `parameters.namespace` is set"))
        return causes
    causes += field.supported(field.child(path, "scope"), scope, ("Cluster", "Namespace"))
    if scope == "Namespace" and not params.get("namespace"):
        causes.append(field.required(field.child(path, "namespace"),
                                     "`parameters.scope` is set to 'Namespace'"))
    if scope == "Cluster" and params.get("namespace") is not None:
        causes.append(field.forbidden(field.child(path, "namespace"),
                                      "`parameters.scope` is set to 'Cluster'"))
    return causes
