"""The event table (core form; events.k8s.io Events are converted first, as
upstream prints them): LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, Name last."""
from __future__ import annotations

from datetime import datetime

from apiserver.registry.printing.columns import CORE, OBJECT_META, col, name_of
from apiserver.registry.printing.humanize import age, doc

_EVENT = CORE + "Event"


def columns() -> list[dict]:
    return [col("Last Seen", doc(_EVENT, "lastTimestamp")), col("Type", doc(_EVENT, "type")),
            col("Reason", doc(_EVENT, "reason")), col("Object", doc(_EVENT, "involvedObject")),
            col("Subobject", doc(CORE + "ObjectReference", "fieldPath"), priority=1),
            col("Source", doc(_EVENT, "source"), priority=1), col("Message", doc(_EVENT, "message")),
            col("First Seen", doc(_EVENT, "firstTimestamp"), priority=1),
            col("Count", doc(_EVENT, "count"), priority=1),
            col("Name", doc(OBJECT_META, "name"), priority=1, format_="name")]


def row(ev: dict, now: datetime) -> list:
    first = age(ev.get("firstTimestamp"), now) if ev.get("firstTimestamp") else age(ev.get("eventTime"), now)
    last = age(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = ev.get("count") or 0
    series = ev.get("series")
    if series:
        last = age(series.get("lastObservedTime"), now)
        count = series.get("count") or 0
    elif count == 0:
        count = 1
    inv = ev.get("involvedObject") or {}
    target = (inv.get("kind") or "").lower()
    if inv.get("name"):
        target = f"{target}/{inv['name']}"
    src = ev.get("source") or {}
    # upstream's formatEventSource: the source, else the reporting controller and instance
    component = src.get("component") or ev.get("reportingComponent") or ""
    host = src.get("host") or ev.get("reportingInstance") or ""
    source = f"{component}, {host}" if host else component
    return [last, ev.get("type", ""), ev.get("reason", ""), target, inv.get("fieldPath", ""), source,
            (ev.get("message") or "").strip(), first, int(count), name_of(ev)]
