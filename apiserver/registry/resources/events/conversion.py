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


def _converted(ev: dict, api_version: str, renames) -> dict:
    """The same event under `api_version`: shared fields kept, (from, to) fields renamed."""
    out = {"kind": "Event", "apiVersion": api_version}
    for k in _SAME:
        if k in ev:
            out[k] = ev[k]
    for src, dst in renames:
        if src in ev:
            out[dst] = ev[src]
    return out


def to_core(ev: dict) -> dict:
    out = _converted(ev, "v1", ((v1, core) for core, v1 in _RENAMES))
    if "series" in out and isinstance(out["series"], dict):
        out["series"] = dict(out["series"])
    return out


def to_events_v1(ev: dict) -> dict:
    out = _converted(ev, "events.k8s.io/v1", _RENAMES)
    if out.get("deprecatedSource") == {}:
        del out["deprecatedSource"]
    return out
