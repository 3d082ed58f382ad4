"""audit.k8s.io/v1 Events, built from what a request was and what it got (pure)."""
from __future__ import annotations

import datetime as dt


def micro_time(t: dt.datetime) -> str:
    """RFC 3339 with microseconds, as MicroTime is written."""
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def object_ref(info) -> dict | None:
    """objectRef from a RequestInfo (resource requests only)."""
    if not info.is_resource_request:
        return None
    ref = {"resource": info.resource}
    for key, value in (("namespace", info.namespace), ("name", info.name), ("apiGroup", info.group),
                       ("apiVersion", info.version), ("subresource", info.subresource)):
        if value:
            ref[key] = value
    return ref


def response_status(code: int, body: dict | None) -> dict:
    """What upstream records of the response: the code, and for a Status its outcome."""
    status: dict = {"metadata": {}, "code": code}
    if isinstance(body, dict) and body.get("kind") == "Status":
        for key in ("status", "message", "reason", "details"):
            if body.get(key):
                status[key] = body[key]
    return status


def without_managed_fields(obj):
    """A shallow copy of an object (or list) with metadata.managedFields left out."""
    if not isinstance(obj, dict):
        return obj
    out = obj
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        out = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    items = obj.get("items")
    if isinstance(items, list):
        out = {**out, "items": [without_managed_fields(i) for i in items]}
    return out


def event(*, audit_id: str, stage: str, level: str, request_uri: str, verb: str, user: dict | None,
          impersonated_user: dict | None = None, source_ips: list[str], user_agent: str | None,
          ref: dict | None, received: dt.datetime,
          stage_time: dt.datetime, code: int | None = None, status_body: dict | None = None,
          request_object=None, response_object=None, annotations: dict | None = None) -> dict:
    ev: dict = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": audit_id,
                "stage": stage, "requestURI": request_uri, "verb": verb, "user": user or {}}
    if impersonated_user:   # `user` stays the requester, as upstream
        ev["impersonatedUser"] = impersonated_user
    ev["sourceIPs"] = source_ips
    if user_agent:
        ev["userAgent"] = user_agent
    if ref is not None:
        ev["objectRef"] = ref
    if code is not None:
        ev["responseStatus"] = response_status(code, status_body)
    if request_object is not None:
        ev["requestObject"] = request_object
    if response_object is not None:
        ev["responseObject"] = response_object
    ev["requestReceivedTimestamp"] = micro_time(received)
    ev["stageTimestamp"] = micro_time(stage_time)
    if annotations:
        ev["annotations"] = annotations
    return ev
