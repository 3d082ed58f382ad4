"""Events: core/v1 and events.k8s.io/v1 share one storage (core form);
conversion.py maps one onto the other both ways. Events have no spec, PUT may
create them, and both APIs print the core table (printer.py)."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.strategy import Strategy

from . import printer
from .conversion import to_core, to_events_v1
from .validation import validate_core_event, validate_events_event


class EventStrategy(Strategy):
    serves = (("", "events"),)
    has_spec = False
    allow_create_on_update = True
    selectable_fields = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                         "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                         "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type")

    def validate(self, obj: dict) -> list[Cause]:
        return validate_core_event(obj)

    def fields(self, obj: dict) -> dict[str, str]:
        f = super().fields(obj)
        src = obj.get("source") or {}
        f["source"] = src.get("component", "") if isinstance(src, dict) else ""
        return f

    def columns(self) -> list[dict]:
        return printer.columns()

    def cells(self, obj: dict, now: datetime) -> list:
        return printer.row(obj, now)


class EventsV1Strategy(EventStrategy):
    """events.k8s.io/v1 served from core-form storage."""
    serves = (("events.k8s.io", "events"),)
    converts = True

    def validate(self, obj: dict) -> list[Cause]:
        return validate_events_event(obj)

    def to_storage(self, obj: dict) -> dict:
        return to_core(obj)

    def from_storage(self, obj: dict) -> dict:
        return to_events_v1(obj)

    def fields(self, obj: dict) -> dict[str, str]:
        return super().fields(to_core(obj))

    def cells(self, obj: dict, now: datetime) -> list:
        return super().cells(to_core(obj), now)


__all__ = ["EventStrategy", "EventsV1Strategy", "to_core", "to_events_v1"]
