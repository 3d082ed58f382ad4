"""Request options the registry understands (list, delete), parsed from the
query string or body, and the list continue token. Pure, no I/O."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

import orjson

from apiserver.machinery.errors import bad_request, StatusError


@dataclass(slots=True)
class ListOptions:
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""
    timeout_seconds: int | None = None
    allow_bookmarks: bool = False
    send_initial_events: bool | None = None

    @classmethod
    def from_query(cls, q) -> "ListOptions":
        """`q` is a mapping of query parameters (first value of each)."""
        o = cls(
            label_selector=q.get("labelSelector", ""),
            field_selector=q.get("fieldSelector", ""),
            continue_token=q.get("continue", ""),
            resource_version=q.get("resourceVersion", ""),
            resource_version_match=q.get("resourceVersionMatch", ""),
            allow_bookmarks=q.get("allowWatchBookmarks", "") in ("true", "1"),
        )
        if "limit" in q:
            o.limit = _int(q["limit"], "limit")
        if "timeoutSeconds" in q:
            o.timeout_seconds = _int(q["timeoutSeconds"], "timeoutSeconds")
        if "sendInitialEvents" in q:
            o.send_initial_events = q["sendInitialEvents"] in ("true", "1")
        if o.resource_version_match and o.resource_version_match not in ("NotOlderThan", "Exact"):
            raise bad_request(f'resourceVersionMatch: Unsupported value: "{o.resource_version_match}": '
                              'supported values: "Exact", "NotOlderThan"')
        if o.resource_version_match and not o.resource_version:
            raise bad_request("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden "
                              "unless resourceVersion is provided")
        if o.continue_token and o.resource_version not in ("", "0"):
            raise bad_request("specifying resource version is not allowed when using continue")
        if o.resource_version and o.resource_version != "0":
            parse_resource_version(o.resource_version)
        return o


def _int(value: str, name: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise bad_request(f'invalid value for {name}: "{value}"') from None
    if n < 0:
        raise bad_request(f"{name}: Invalid value: {n}: must be greater than or equal to 0")
    return n


def parse_resource_version(rv: str) -> int:
    try:
        n = int(rv)
        if n < 0:
            raise ValueError
        return n
    except ValueError:
        raise StatusError(400, "BadRequest", f'invalid resource version "{rv}"') from None


# --- continue tokens --------------------------------------------------------
# Upstream-style: base64(JSON{"v": "meta.k8s.io/v1", "rv": <revision>, "start": <key after prefix>}).

# rv -1 (LATEST) marks the inconsistent continuation a 410 hands out: go on from
# the key at the newest revision; 0 stays invalid, as upstream.
LATEST = -1


def encode_continue(revision: int, next_key: str, prefix: str) -> str:
    start = next_key[len(prefix):] if next_key.startswith(prefix) else next_key
    doc = {"v": "meta.k8s.io/v1", "rv": revision, "start": start}
    return base64.urlsafe_b64encode(orjson.dumps(doc)).decode().rstrip("=")


def decode_continue(token: str, prefix: str) -> tuple[int, str]:
    """(revision, absolute start key). 400 on a malformed token."""
    try:
        padded = token + "=" * (-len(token) % 4)
        doc = orjson.loads(base64.urlsafe_b64decode(padded))
        if doc.get("v") != "meta.k8s.io/v1":
            raise ValueError("version")
        rev = int(doc["rv"])
        start = str(doc["start"])
    except Exception:
        raise bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                          "(version meta.k8s.io/v1)") from None
    if rev == 0 or rev < LATEST or start.startswith("/") or ".." in start.split("/"):
        raise bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                          "(version meta.k8s.io/v1)")
    return rev, prefix + start


@dataclass(slots=True)
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str = ""
    orphan_dependents: bool | None = None
    uid: str = ""
    resource_version: str = ""
    dry_run: bool = False

    @classmethod
    def from_request(cls, query, body: dict | None) -> "DeleteOptions":
        o = cls()
        b = body or {}
        if b.get("kind") not in (None, "DeleteOptions"):
            raise bad_request(f'got unexpected kind "{b.get("kind")}" in the request body; expected DeleteOptions')
        if "gracePeriodSeconds" in b and b["gracePeriodSeconds"] is not None:
            o.grace_period_seconds = int(b["gracePeriodSeconds"])
        if "gracePeriodSeconds" in query:
            o.grace_period_seconds = _signed_int(query["gracePeriodSeconds"], "gracePeriodSeconds")
        o.propagation_policy = query.get("propagationPolicy") or b.get("propagationPolicy") or ""
        if o.propagation_policy and o.propagation_policy not in ("Orphan", "Background", "Foreground"):
            raise StatusError(422, "Invalid", f'propagationPolicy: Unsupported value: "{o.propagation_policy}": '
                              'supported values: "Foreground", "Background", "Orphan"')
        od = query.get("orphanDependents")
        if od is not None:
            o.orphan_dependents = od in ("true", "1")
        elif b.get("orphanDependents") is not None:
            o.orphan_dependents = bool(b["orphanDependents"])
        pre = b.get("preconditions") or {}
        o.uid = pre.get("uid") or ""
        o.resource_version = pre.get("resourceVersion") or ""
        dry = b.get("dryRun") or []
        o.dry_run = "All" in dry
        return o


def _signed_int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise bad_request(f'invalid value for {name}: "{value}"') from None
