"""LimitRanger: a namespace's LimitRanges fill in default requests and limits
for containers that name none, and refuse pods outside min/max/ratio bounds."""
from __future__ import annotations

from fractions import Fraction

from apiserver.registry.attributes import Attributes
from apiserver.registry.defaulting.podspec import qos_class
from apiserver.registry.validation import quantities

from .plugin import Plugin, forbidden, is_pod

ANNOTATION = "kubernetes.io/limit-ranger"


def _containers(spec: dict) -> list[dict]:
    return [c for key in ("initContainers", "containers") for c in spec.get(key) or [] if isinstance(c, dict)]


def apply_defaults(pod: dict, items: list[dict]) -> list[str]:
    """Set missing requests/limits from Container items; returns what was set, for the annotation."""
    default: dict = {}
    default_request: dict = {}
    for item in items:
        if item.get("type") == "Container":
            for k, v in (item.get("default") or {}).items():
                default.setdefault(k, v)
            for k, v in (item.get("defaultRequest") or {}).items():
                default_request.setdefault(k, v)
    notes: list[str] = []
    if not default and not default_request:
        return notes
    for c in _containers(pod.get("spec") or {}):
        res = c.setdefault("resources", {})
        set_req = [k for k in sorted(default_request) if k not in (res.get("requests") or {})]
        set_lim = [k for k in sorted(default) if k not in (res.get("limits") or {})]
        if set_req:
            res.setdefault("requests", {}).update({k: default_request[k] for k in set_req})
            notes.append(f"{', '.join(set_req)} request for container {c.get('name', '')}")
        if set_lim:
            res.setdefault("limits", {}).update({k: default[k] for k in set_lim})
            notes.append(f"{', '.join(set_lim)} limit for container {c.get('name', '')}")
    return notes


def _min(kind: str, name: str, enforced: str, req: dict, lim: dict) -> str | None:
    want = quantities.parse(enforced)
    if name not in req:
        return f"minimum {name} usage per {kind} is {enforced}.  No request is specified"
    if quantities.parse(req[name]) < want:
        return f"minimum {name} usage per {kind} is {enforced}, but request is {req[name]}"
    if name in lim and quantities.parse(lim[name]) < want:
        return f"minimum {name} usage per {kind} is {enforced}, but limit is {lim[name]}"
    return None


def _max(kind: str, name: str, enforced: str, req: dict, lim: dict) -> str | None:
    want = quantities.parse(enforced)
    if name not in lim:
        return f"maximum {name} usage per {kind} is {enforced}.  No limit is specified"
    if quantities.parse(lim[name]) > want:
        return f"maximum {name} usage per {kind} is {enforced}, but limit is {lim[name]}"
    if name in req and quantities.parse(req[name]) > want:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {req[name]}"
    return None


def _ratio(kind: str, name: str, enforced: str, req: dict, lim: dict) -> str | None:
    r, l_ = quantities.parse(req.get(name)), quantities.parse(lim.get(name))
    if l_ is None or l_ == 0:
        return f"{name} max limit to request ratio per {kind} is {enforced}, but no limit is specified or limit is 0"
    if r is None or r == 0:
        return f"{name} max limit to request ratio per {kind} is {enforced}, but no request is specified or request is 0"
    ratio = l_ / r
    if ratio > quantities.parse(enforced):
        return f"{name} max limit to request ratio per {kind} is {enforced}, but provided ratio is {float(ratio):f}"
    return None


def _pod_totals(spec: dict) -> tuple[dict, dict]:
    req: dict[str, Fraction] = {}
    lim: dict[str, Fraction] = {}
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        for target, src in ((req, res.get("requests") or {}), (lim, res.get("limits") or {})):
            for k, v in src.items():
                q = quantities.parse(v)
                if q is not None:
                    target[k] = target.get(k, Fraction(0)) + q
    return ({k: quantities.format_quantity(v) for k, v in req.items()},
            {k: quantities.format_quantity(v) for k, v in lim.items()})


def violations(pod: dict, items: list[dict]) -> list[str]:
    spec = pod.get("spec") or {}
    errs: list[str] = []
    for item in items:
        kind = item.get("type")
        if kind == "Container":
            subjects = [((c.get("resources") or {}).get("requests") or {}, (c.get("resources") or {}).get("limits") or {})
                        for c in _containers(spec)]
        elif kind == "Pod":
            subjects = [_pod_totals(spec)]
        else:
            continue
        for req, lim in subjects:
            for check, key in ((_min, "min"), (_max, "max"), (_ratio, "maxLimitRequestRatio")):
                for name, enforced in sorted((item.get(key) or {}).items()):
                    err = check(kind, name, str(enforced), req, lim)
                    if err:
                        errs.append(err)
    return errs


class LimitRanger(Plugin):
    name = "LimitRanger"
    mutating = True
    validating = True

    async def _items(self, namespace: str) -> list[dict]:
        return [item for lr in await self.list("", "limitranges", namespace)
                for item in (lr.get("spec") or {}).get("limits") or []]

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation != "CREATE" or not is_pod(attrs) or not isinstance(attrs.object, dict):
            return
        items = await self._items(attrs.namespace)
        notes = apply_defaults(attrs.object, items)
        if notes:
            meta = attrs.object.setdefault("metadata", {})
            meta.setdefault("annotations", {})[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)
            status = attrs.object.setdefault("status", {})
            status["qosClass"] = qos_class(attrs.object.get("spec") or {})

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation != "CREATE" or not is_pod(attrs) or not isinstance(attrs.object, dict):
            return
        errs = violations(attrs.object, await self._items(attrs.namespace))
        if errs:
            raise forbidden(attrs, errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")
