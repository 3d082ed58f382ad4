"""ResourceQuota: object counts and compute totals per namespace, enforced at
admission and kept in each quota's status.used.

On every create of something a quota tracks, the usage it adds is checked
against each quota's hard limits and, if it fits, written into status.used
with compare-and-swap (so concurrent creates cannot both take the last slot).
Deletes give usage back. A quota that is created or changed gets its usage
counted afresh from what the namespace holds.
"""
from __future__ import annotations

from fractions import Fraction

from apiserver.machinery.errors import StatusError
from apiserver.registry.attributes import Attributes
from apiserver.registry.context import WriteContext
from apiserver.registry.validation import quantities

from .plugin import Plugin, forbidden

# Resources with a legacy quota name besides count/<resource>.
_LEGACY_COUNT = {"pods": "pods", "services": "services", "configmaps": "configmaps", "secrets": "secrets",
                 "replicationcontrollers": "replicationcontrollers", "resourcequotas": "resourcequotas",
                 "persistentvolumeclaims": "persistentvolumeclaims"}
_COMPUTE = {"requests.cpu": ("requests", "cpu"), "cpu": ("requests", "cpu"),
            "requests.memory": ("requests", "memory"), "memory": ("requests", "memory"),
            "limits.cpu": ("limits", "cpu"), "limits.memory": ("limits", "memory"),
            "requests.ephemeral-storage": ("requests", "ephemeral-storage"),
            "ephemeral-storage": ("requests", "ephemeral-storage"),
            "limits.ephemeral-storage": ("limits", "ephemeral-storage")}


def _count_names(group: str, plural: str) -> list[str]:
    names = [f"count/{plural}" if not group else f"count/{plural}.{group}"]
    if not group and plural in _LEGACY_COUNT:
        names.append(_LEGACY_COUNT[plural])
    return names


def _pod_counts(pod: dict) -> bool:
    """Terminal and terminating pods no longer use their quota."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and \
        not (pod.get("metadata") or {}).get("deletionTimestamp")


def compute_target(name: str) -> tuple[str, str] | None:
    """Which container field a compute quota name sums: `cpu` and `requests.cpu` the
    cpu requests, `limits.memory` the memory limits, `requests.example.com/x` an
    extended resource's requests."""
    if name in _COMPUTE:
        return _COMPUTE[name]
    for kind in ("requests", "limits"):
        if name.startswith(kind + "."):
            return kind, name[len(kind) + 1:]
    return None


def _pod_compute(pod: dict, names) -> dict[str, Fraction]:
    spec = pod.get("spec") or {}
    out: dict[str, Fraction] = {}
    for name in names:
        target = compute_target(name)
        if target is None:
            continue
        kind, res = target
        total, present = Fraction(0), False
        for c in spec.get("containers") or []:
            q = quantities.parse(((c.get("resources") or {}).get(kind) or {}).get(res))
            total, present = total + (q or 0), present or q is not None
        for c in spec.get("initContainers") or []:  # init containers run one at a time
            q = quantities.parse(((c.get("resources") or {}).get(kind) or {}).get(res))
            total, present = max(total, q or 0), present or q is not None
        # the pod overhead (RuntimeClass) counts too: always in requests, and in
        # limits where the pod has a limit for that resource (upstream's PodLimits)
        overhead = quantities.parse((spec.get("overhead") or {}).get(res))
        if overhead is not None and (kind == "requests" or present):
            total += overhead
        out[name] = total
    return out


def usage(group: str, plural: str, obj: dict, names=()) -> dict[str, Fraction]:
    """What one object adds to the quota resources that track it (`names`: the
    compute resources asked about, for pods)."""
    if not group and plural == "pods" and not _pod_counts(obj):
        return {}
    used = {n: Fraction(1) for n in _count_names(group, plural)}
    if not group and plural == "pods":
        used.update(_pod_compute(obj, names or _COMPUTE))
    if not group and plural == "services":
        spec = obj.get("spec") or {}
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            used["services.nodeports"] = Fraction(len(spec.get("ports") or []))
        if spec.get("type") == "LoadBalancer":
            used["services.loadbalancers"] = Fraction(1)
    return used


def _missing_specs(pod: dict, hard: dict) -> list[str]:
    """`limits.cpu for: c` for each constrained compute resource a container leaves unset."""
    out = []
    for name in sorted(hard):
        if name not in _COMPUTE or name in ("ephemeral-storage", "requests.ephemeral-storage", "limits.ephemeral-storage"):
            continue
        kind, res = _COMPUTE[name]
        missing = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []
                   if res not in ((c.get("resources") or {}).get(kind) or {})]
        if missing:
            out.append(f"{name} for: {','.join(missing)}")
    return out


def _fmt(values: dict[str, Fraction], like: dict) -> dict[str, str]:
    return {k: quantities.format_quantity(v, quantities.is_binary(like.get(k))) for k, v in values.items()}


def _pretty(values: dict[str, str]) -> str:
    return ",".join(f"{k}={values[k]}" for k in sorted(values))


def exceeded(quota: dict, delta: dict[str, Fraction]) -> str | None:
    hard = (quota.get("spec") or {}).get("hard") or {}
    used = (quota.get("status") or {}).get("used") or {}
    requested, was, limited = {}, {}, {}
    for name, add in delta.items():
        if name not in hard or add <= 0:
            continue
        now = quantities.parse(used.get(name, "0")) or Fraction(0)
        limit = quantities.parse(hard[name]) or Fraction(0)
        if now + add > limit:
            requested[name] = quantities.format_quantity(add, quantities.is_binary(hard[name]))
            was[name] = used.get(name, "0")
            limited[name] = hard[name]
    if not requested:
        return None
    name = (quota.get("metadata") or {}).get("name", "")
    return (f"exceeded quota: {name}, requested: {_pretty(requested)}, used: {_pretty(was)}, "
            f"limited: {_pretty(limited)}")


def add_usage(quota: dict, delta: dict[str, Fraction], sign: int = 1) -> bool:
    """Add (or take back) `delta` in status.used for the resources the quota tracks; True if it changed."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    status = quota.setdefault("status", {})
    used = status.setdefault("used", {})
    status["hard"] = dict(hard)
    changed = False
    for name, add in delta.items():
        if name not in hard:
            continue
        now = quantities.parse(used.get(name, "0")) or Fraction(0)
        new = max(now + sign * add, Fraction(0))
        used[name] = quantities.format_quantity(new, quantities.is_binary(hard[name]))
        changed = True
    return changed


class ResourceQuota(Plugin):
    name = "ResourceQuota"
    mutating = True    # fresh status for quota objects themselves
    validating = True  # enforcement

    async def admit(self, attrs: Attributes) -> None:
        r = attrs.resource
        if r.group or r.plural != "resourcequotas" or attrs.subresource or attrs.operation not in ("CREATE", "UPDATE"):
            return
        quota = attrs.object
        if not isinstance(quota, dict):
            return
        hard = (quota.get("spec") or {}).get("hard") or {}
        if attrs.operation == "UPDATE" and attrs.old_object and \
                ((attrs.old_object.get("spec") or {}).get("hard") or {}) == hard:
            return
        quota["status"] = {"hard": dict(hard), "used": await self._count(attrs.namespace, hard, quota)}

    async def _count(self, namespace: str, hard: dict, quota: dict) -> dict[str, str]:
        totals: dict[str, Fraction] = {name: Fraction(0) for name in hard}
        counted: set[tuple[str, str]] = set()
        for gs in self.registries or []:
            res = gs.resource
            # a kind served in several versions (custom resources) is stored, and counted, once
            if not res.namespaced or (res.group, res.plural) in counted:
                continue
            counted.add((res.group, res.plural))
            names = set(_count_names(res.group, res.plural))
            if res.plural == "pods" and not res.group:
                names |= {n for n in hard if compute_target(n)}
            if res.plural == "services" and not res.group:
                names |= {"services.nodeports", "services.loadbalancers"}
            if not names & set(hard):
                continue
            for obj in await self.list(res.group, res.plural, namespace):
                for name, v in usage(res.group, res.plural, obj, list(hard)).items():
                    if name in totals:
                        totals[name] += v
        if "count/resourcequotas" in hard or "resourcequotas" in hard:
            name_ = (quota.get("metadata") or {}).get("name")
            already = any((q.get("metadata") or {}).get("name") == name_ for q in await self.list("", "resourcequotas", namespace))
            if not already:
                for k in ("count/resourcequotas", "resourcequotas"):
                    if k in totals:
                        totals[k] += 1
        return _fmt(totals, hard)

    async def validate(self, attrs: Attributes) -> None:
        r = attrs.resource
        if not r.namespaced or not attrs.namespace or attrs.subresource:
            return
        if attrs.operation == "CREATE" and isinstance(attrs.object, dict):
            obj, sign = attrs.object, 1
        elif attrs.operation == "DELETE" and isinstance(attrs.old_object, dict):
            obj, sign = attrs.old_object, -1  # pods already terminating give nothing back twice
        else:
            return
        if not r.group and r.plural == "pods" and not _pod_counts(obj):
            return  # nothing any quota could track (a terminating pod): usage() would be {}
        all_quotas = await self.list("", "resourcequotas", attrs.namespace)
        if not all_quotas:
            return  # most namespaces have none: skip summing what nothing limits
        hard_names = {n for q in all_quotas for n in (q.get("spec") or {}).get("hard") or {}}
        delta = usage(r.group, r.plural, obj, hard_names)
        quotas = [q for q in all_quotas if set(delta) & set((q.get("spec") or {}).get("hard") or {})]
        if not quotas:
            return
        if sign > 0:
            if not r.group and r.plural == "pods":
                for q in quotas:
                    missing = _missing_specs(attrs.object, (q.get("spec") or {}).get("hard") or {})
                    if missing:
                        raise forbidden(attrs, f"failed quota: {q['metadata']['name']}: must specify "
                                        + "; ".join(missing))
            for q in quotas:
                err = exceeded(q, delta)
                if err:
                    raise forbidden(attrs, err)
        if attrs.dry_run:
            return
        for q in quotas:
            await self._record(attrs, q["metadata"]["name"], delta, sign)

    async def _record(self, attrs: Attributes, quota_name: str, delta: dict, sign: int) -> None:
        gs = self.registries.for_plural("", "resourcequotas")

        async def transform(quota: dict) -> dict:
            if sign > 0:
                err = exceeded(quota, delta)
                if err:
                    raise forbidden(attrs, err)
            add_usage(quota, delta, sign)
            return quota

        try:
            await gs.guaranteed_update(attrs.namespace, quota_name, transform, WriteContext(),
                                       subresource="status", admit=False)
        except StatusError as e:
            if e.code != 404:  # a quota deleted meanwhile simply no longer counts
                raise
