"""Nodes: registered by the node agent with a status already filled in;
taint and pod CIDR rules; the node table (STATUS, ROLES, VERSION...)."""
from __future__ import annotations

import ipaddress
from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import CORE, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")
_INFO = CORE + "NodeSystemInfo"


class NodeStrategy(Strategy):
    serves = (("", "nodes"),)
    selectable_fields = ("spec.unschedulable",)

    def defaults(self, obj: dict) -> None:
        status = obj.get("status")
        if isinstance(status, dict) and status.get("capacity") and not status.get("allocatable"):
            status["allocatable"] = dict(status["capacity"])

    def validate(self, obj: dict) -> list[Cause]:
        return validate_node(obj)

    def prepare_for_create(self, obj: dict) -> None:
        # the node agent registers its Node with a status already filled in
        return None

    def fields(self, obj: dict) -> dict[str, str]:
        f = super().fields(obj)
        if not f["spec.unschedulable"]:
            f["spec.unschedulable"] = "false"
        return f

    def columns(self) -> list[dict]:
        return [name_column(), col("Status", "The status of the node"), col("Roles", "The roles of the node"),
                age_column(), col("Version", doc(_INFO, "kubeletVersion")),
                col("Internal-IP", doc(CORE + "NodeStatus", "addresses"), priority=1),
                col("External-IP", doc(CORE + "NodeStatus", "addresses"), priority=1),
                col("OS-Image", doc(_INFO, "osImage"), priority=1),
                col("Kernel-Version", doc(_INFO, "kernelVersion"), priority=1),
                col("Container-Runtime", doc(_INFO, "containerRuntimeVersion"), priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
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
        return [name_of(obj), ",".join(states), _roles((obj.get("metadata") or {}).get("labels") or {}),
                age_of(obj, now), info.get("kubeletVersion", ""), _address(obj, "InternalIP"),
                _address(obj, "ExternalIP"), info.get("osImage") or "<unknown>",
                info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]


def validate_node(node: dict) -> list[Cause]:
    spec = node.get("spec") or {}
    causes: list[Cause] = []
    for p, t in field.objects(spec.get("taints"), "spec.taints"):
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
            causes += field.supported(field.child(p, "effect"), t["effect"], TAINT_EFFECTS)
    for i, cidr in enumerate(spec.get("podCIDRs") or []):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except (ValueError, TypeError):
            causes.append(field.invalid(field.index("spec.podCIDRs", i), cidr,
                                        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
    return causes


def _roles(labels: dict) -> str:
    roles = set()
    for k, v in labels.items():
        if k.startswith("node-role.kubernetes.io/"):
            role = k[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    return ",".join(sorted(roles)) or "<none>"


def _address(obj: dict, kind: str) -> str:
    for a in (obj.get("status") or {}).get("addresses") or []:
        if a.get("type") == kind:
            return a.get("address", "")
    return "<none>"
