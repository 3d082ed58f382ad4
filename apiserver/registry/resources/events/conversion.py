"""events.k8s.io/v1 <-> core/v1 Event: the same object under other field names
(regarding = involvedObject, note = message, reportingController =
reportingComponent, deprecated* = the old source and timestamps)."""
from __future__ import annotations

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
