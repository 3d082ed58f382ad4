"""networking.k8s.io/v1 ServiceCIDRs (GA in 1.33): the ranges ClusterIPs come from.
Validated as upstream (one or two CIDRs, one per family; immutable except adding the
second family to a single-stack one), with /status. The default one, `kubernetes`,
mirrors --service-cluster-ip-range and is put in place at start (assembly/bootstrap.py).
The ClusterIP allocator still allocates from the flag's range alone (it writes an
IPAddress per address but does not read ServiceCIDRs)."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field
from apiserver.registry.validation.ips import CIDR_MESSAGE, cidr_family, is_cidr_sloppy

DEFAULT_NAME = "kubernetes"
_IMMUTABLE = "field is immutable"
_PER_FAMILY = "may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64"


def validate_cidrs(spec: dict) -> list[Cause]:
    path = "spec.cidrs"
    cidrs = spec.get("cidrs") if isinstance(spec.get("cidrs"), list) else []
    if not cidrs:
        return [field.required(path, "at least one CIDR required")]
    if len(cidrs) > 2:
        return [field.invalid(path, spec, "may only hold up to 2 values")]
    causes = [field.invalid(field.index(path, i), c, CIDR_MESSAGE) for i, c in enumerate(cidrs)
              if not is_cidr_sloppy(c)]
    if len(cidrs) == 2 and cidr_family(cidrs[0]) is not None and cidr_family(cidrs[0]) == cidr_family(cidrs[1]):
        causes.append(field.invalid(path, cidrs, _PER_FAMILY))
    return causes


def validate_cidrs_update(new: dict, old: dict) -> list[Cause]:
    """A ServiceCIDR's ranges never change, except that a single-stack one may gain its
    other family (upstream's issue 131261)."""
    new_cidrs = (new.get("spec") or {}).get("cidrs") or []
    old_cidrs = (old.get("spec") or {}).get("cidrs") or []
    if len(new_cidrs) == len(old_cidrs):
        return [field.invalid(field.index("spec.cidrs", i), new_cidrs[i], _IMMUTABLE)
                for i in range(len(old_cidrs)) if new_cidrs[i] != old_cidrs[i]]
    if len(old_cidrs) == 1 and len(new_cidrs) == 2:
        if new_cidrs[0] != old_cidrs[0]:
            return [field.invalid("spec.cidrs[0]", new_cidrs[0], _IMMUTABLE)]
        return []  # the new pair is checked by validate()
    return [field.invalid("spec.cidrs", new_cidrs, _IMMUTABLE)]


class ServiceCIDRStrategy(Strategy):
    serves = (("networking.k8s.io", "servicecidrs"),)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        return validate_cidrs(spec)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return validate_cidrs_update(new, old)

    def columns(self) -> list[dict]:
        return [name_column(), col("CIDRs", doc("io.k8s.api.networking.v1.ServiceCIDRSpec", "cidrs")), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        cidrs = (obj.get("spec") or {}).get("cidrs") or []
        return [name_of(obj), ",".join(str(c) for c in cidrs), age_of(obj, now)]


def default_service_cidr(service_cluster_ip_range: str) -> dict:
    """The `kubernetes` ServiceCIDR as upstream's default-servicecidr controller writes it."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR", "metadata": {"name": DEFAULT_NAME},
            "spec": {"cidrs": [c.strip() for c in service_cluster_ip_range.split(",") if c.strip()]}}


def ready_status(now: str) -> dict:
    return {"conditions": [{"type": "Ready", "status": "True", "reason": "",
                            "message": "Kubernetes default Service CIDR is ready", "lastTransitionTime": now}]}
