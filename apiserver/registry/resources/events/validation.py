"""Event rules: core/v1 (namespace and type) and events.k8s.io/v1 (the fields
the newer API requires)."""
from __future__ import annotations

from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

TYPES = ("Normal", "Warning")


def validate_core_event(ev: dict) -> list[Cause]:
    causes: list[Cause] = []
    inv = ev.get("involvedObject") or {}
    ns = (ev.get("metadata") or {}).get("namespace") or ""
    if inv.get("namespace") and ns and inv["namespace"] != ns:
        causes.append(field.invalid("involvedObject.namespace", inv["namespace"], "does not match event.namespace"))
    causes += field.supported("type", ev.get("type") or None, TYPES)
    return causes


def validate_events_event(ev: dict) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("eventTime", "reportingController", "reportingInstance", "action", "reason"):
        if not ev.get(key):
            causes.append(field.required(key, ""))
    causes += field.supported("type", ev.get("type") or None, TYPES)
    if not ev.get("type"):
        causes.append(field.required("type", ""))
    return causes
