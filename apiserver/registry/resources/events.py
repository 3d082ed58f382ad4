"""Events: core/v1 and events.k8s.io/v1 share one storage (core form).

events.k8s.io/v1 renames fields (regarding = involvedObject, note = message,
reportingController = reportingComponent, deprecated* = the old source and
timestamps); the conversion below maps one onto the other both ways.
"""
from __future__ import annotations

from apiserver.registry.strategy import Strategy

# (core field, events.k8s.io field)
_RENAMES = (
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
)
_SAME = ("metadata", "reason", "type", "eventTime", "series", "action", "related", "reportingInstance")


class EventStrategy(Strategy):
    has_spec = False
    allow_create_on_update = True
    selectable_fields = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                         "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                         "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type")

    def fields(self, obj: dict) -> dict[str, str]:
        f = super().fields(obj)
        src = obj.get("source") or {}
        f["source"] = src.get("component", "") if isinstance(src, dict) else ""
        return f


class EventsV1Strategy(EventStrategy):
    """events.k8s.io/v1 served from core-form storage."""
    converts = True

    def to_storage(self, obj: dict) -> dict:
        return to_core(obj)

    def from_storage(self, obj: dict) -> dict:
        return to_events_v1(obj)

    def fields(self, obj: dict) -> dict[str, str]:
        return super().fields(to_core(obj))


def to_core(ev: dict) -> dict:
    out = {"kind": "Event", "apiVersion": "v1"}
    for k in _SAME:
        if k in ev:
            out[k] = ev[k]
    for core, v1 in _RENAMES:
        if v1 in ev:
            out[core] = ev[v1]
    if "series" in out and isinstance(out["series"], dict):
        out["series"] = dict(out["series"])
    return out


def to_events_v1(ev: dict) -> dict:
    out = {"kind": "Event", "apiVersion": "events.k8s.io/v1"}
    for k in _SAME:
        if k in ev:
            out[k] = ev[k]
    for core, v1 in _RENAMES:
        if core in ev:
            out[v1] = ev[core]
    if out.get("deprecatedSource") == {}:
        del out["deprecatedSource"]
    return out
