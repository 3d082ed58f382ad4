"""LimitRanges: container defaults filled in from max/min, the ranges' rules.
Printed with upstream's default table (Name, Created At)."""
from __future__ import annotations

from apiserver.machinery.errors import Cause
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field, quantities


class LimitRangeStrategy(Strategy):
    serves = (("", "limitranges"),)

    def defaults(self, obj: dict) -> None:
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

    def validate(self, obj: dict) -> list[Cause]:
        causes: list[Cause] = []
        for p, item in field.objects((obj.get("spec") or {}).get("limits"), "spec.limits"):
            causes += _validate_item(item, p)
        return causes


def _validate_item(item: dict, p: str) -> list[Cause]:
    causes: list[Cause] = []
    kind = item.get("type")
    causes += field.supported(field.child(p, "type"), kind, ("Container", "PersistentVolumeClaim", "Pod"))
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
