"""APIServices (apiregistration.k8s.io/v1): which server answers each group-version.

Every built-in group-version has a local APIService (no `service`), kept in place
at start as kube-apiserver's autoregister controller keeps them ("onstart"), with
the group and version priorities upstream gives each, and Available=True with
reason Local. Validation is kube-aggregator's; the table is `kubectl get apiservices`'s.
APIServices naming a Service are stored and validated; requests are not proxied to them.
"""
from __future__ import annotations

import base64
from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

AUTOMANAGED_LABEL = "kube-aggregator.kubernetes.io/automanaged"
# (group, version) -> (groupPriorityMinimum, versionPriority): upstream's table for local APIServices
PRIORITIES: dict[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1),
    ("apiregistration.k8s.io", "v1"): (18000, 15),
    ("apps", "v1"): (17800, 15),
    ("events.k8s.io", "v1"): (17750, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("autoscaling", "v1"): (17500, 15),
    ("autoscaling", "v2"): (17500, 30),
    ("batch", "v1"): (17400, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("storage.k8s.io", "v1"): (16800, 15),
    ("apiextensions.k8s.io", "v1"): (16700, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("node.k8s.io", "v1"): (16300, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1"): (16100, 21),
    # served in-process here (as k3s ships metrics-server); metrics-server registers it at 100/100
    ("metrics.k8s.io", "v1beta1"): (100, 100),
}
LOCAL_MESSAGE = "Local APIServices are always available"


def local_apiservice(group: str, version: str) -> dict | None:
    """The APIService kube-apiserver registers for one of its own group-versions."""
    prio = PRIORITIES.get((group, version))
    if prio is None:
        return None
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": f"{version}.{group}", "labels": {AUTOMANAGED_LABEL: "onstart"}},
            "spec": {"group": group, "version": version, "groupPriorityMinimum": prio[0],
                     "versionPriority": prio[1]}}


def local_available(now: str) -> dict:
    return {"conditions": [{"type": "Available", "status": "True", "lastTransitionTime": now,
                            "reason": "Local", "message": LOCAL_MESSAGE}]}


def _byte_count(b64) -> int:
    try:
        return len(base64.b64decode(b64))
    except (ValueError, TypeError):
        return len(str(b64))


def _int(v) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def validate_apiservice(obj: dict) -> list[Cause]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    group, version = spec.get("group") or "", spec.get("version") or ""
    causes: list[Cause] = []
    name = (obj.get("metadata") or {}).get("name") or ""
    required = f"{version}.{group}"
    if name and not names.is_valid_path_segment_name(name) and name != required:
        causes.append(field.invalid("metadata.name", name, f'must be `spec.version+"."+spec.group`: "{required}"'))
    if not group and version != "v1":
        causes.append(field.required("spec.group", "only v1 may have an empty group and it better be legacy kube"))
    if group:
        causes += field.each_invalid("spec.group", group, names.is_dns1123_subdomain(group))
    causes += field.each_invalid("spec.version", version, names.is_dns1035_label(version))
    gpm, vp = spec.get("groupPriorityMinimum"), spec.get("versionPriority")
    if not 0 < _int(gpm) <= 20000:
        causes.append(field.invalid("spec.groupPriorityMinimum", gpm or 0, "must be positive and less than 20000"))
    if not 0 < _int(vp) <= 1000:
        causes.append(field.invalid("spec.versionPriority", vp or 0, "must be positive and less than 1000"))
    service = spec.get("service")
    if not isinstance(service, dict):
        if spec.get("caBundle"):
            causes.append(field.invalid("spec.caBundle", f"{_byte_count(spec['caBundle'])} bytes",
                                        "local APIServices may not have a caBundle"))
        if spec.get("insecureSkipTLSVerify"):
            causes.append(field.invalid("spec.insecureSkipTLSVerify", True,
                                        "local APIServices may not have insecureSkipTLSVerify"))
        return causes
    if not service.get("namespace"):
        causes.append(field.required("spec.service.namespace"))
    if not service.get("name"):
        causes.append(field.required("spec.service.name"))
    if spec.get("insecureSkipTLSVerify") and spec.get("caBundle"):
        causes.append(field.invalid("spec.insecureSkipTLSVerify", True, "may not be true if caBundle is present"))
    return causes


def validate_status(obj: dict) -> list[Cause]:
    causes: list[Cause] = []
    for i, c in enumerate(((obj.get("status") or {}).get("conditions") or [])):
        if isinstance(c, dict):
            causes += field.supported(f"status.conditions[{i}].status", c.get("status"), ("True", "False", "Unknown"))
    return causes


def available_cell(obj: dict) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Available":
            status = c.get("status") or ""
            return status if status == "True" else f"{status} ({c.get('reason') or ''})"
    return "Unknown"


class APIServiceStrategy(Strategy):
    serves = (("apiregistration.k8s.io", "apiservices"),)

    def defaults(self, obj: dict) -> None:
        service = (obj.get("spec") or {}).get("service")
        if isinstance(service, dict):
            service.setdefault("port", 443)

    def name_errors(self, name: str) -> list[str]:
        return names.is_valid_path_segment_name(name)

    def validate(self, obj: dict) -> list[Cause]:
        return validate_apiservice(obj) + validate_status(obj)

    def columns(self) -> list[dict]:
        return [name_column(), col("Service", "The service answering this group-version ('Local': this server)"),
                col("Available", "Whether the group-version is reachable"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        service = (obj.get("spec") or {}).get("service")
        where = f"{service.get('namespace', '')}/{service.get('name', '')}" if isinstance(service, dict) else "Local"
        return [name_of(obj), where, available_cell(obj), age_of(obj, now)]
