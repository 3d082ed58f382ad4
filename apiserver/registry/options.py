"""Request options the registry understands (list, delete), parsed from the
query string or body, and the list continue token. Pure, no I/O."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

import orjson

from apiserver.machinery import queryparams as qp
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
        """`q`: the request's query parameters, read as upstream's parameter codec reads
        them (machinery.queryparams: first value, bools, int64)."""
        o = cls(
            label_selector=qp.string(q, "labelSelector"),
            field_selector=qp.string(q, "fieldSelector"),
            continue_token=qp.string(q, "continue"),
            resource_version=qp.string(q, "resourceVersion"),
            resource_version_match=qp.string(q, "resourceVersionMatch"),
            allow_bookmarks=qp.flag(q, "allowWatchBookmarks"),
            send_initial_events=qp.optional_flag(q, "sendInitialEvents"),
        )
        # Upstream pages only when limit > 0: zero and negative limits list everything.
        o.limit = max(qp.int64(q, "limit") or 0, 0)
        o.timeout_seconds = qp.int64(q, "timeoutSeconds")
        match = o.resource_version_match
        if match and not o.resource_version:
            raise _list_options_invalid("resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden "
                                        "unless resourceVersion is provided", "FieldValueForbidden")
        if match and match not in ("NotOlderThan", "Exact"):
            raise _list_options_invalid("resourceVersionMatch", f'Unsupported value: "{match}": supported values: '
                                        '"Exact", "NotOlderThan", ""', "FieldValueNotSupported")
        if match and o.continue_token:
            raise _list_options_invalid("resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden "
                                        "when continue is provided", "FieldValueForbidden")
        if match == "Exact" and o.resource_version == "0":
            raise _list_options_invalid("resourceVersionMatch", 'Forbidden: resourceVersionMatch "exact" is '
                                        'forbidden for resourceVersion "0"', "FieldValueForbidden")
        if o.continue_token and o.resource_version not in ("", "0"):
            raise bad_request("specifying resource version is not allowed when using continue")
        if o.resource_version and o.resource_version != "0":
            parse_resource_version(o.resource_version)
        return o


def _list_options_invalid(field: str, detail: str, reason: str) -> StatusError:
    return qp.invalid_options("ListOptions", field, detail, reason)


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
        """As upstream's delete handlers: a request with a body takes its options from the
        body alone; one without reads them from the query (first values, *int64, *bool)."""
        o = cls()
        if body is not None:
            if body.get("kind") not in (None, "DeleteOptions"):
                raise bad_request(f'got unexpected kind "{body.get("kind")}" in the request body; '
                                  "expected DeleteOptions")
            if body.get("gracePeriodSeconds") is not None:
                o.grace_period_seconds = int(body["gracePeriodSeconds"])
            o.propagation_policy = body.get("propagationPolicy") or ""
            if body.get("orphanDependents") is not None:
                o.orphan_dependents = bool(body["orphanDependents"])
            pre = body.get("preconditions") or {}
            o.uid = pre.get("uid") or ""
            o.resource_version = pre.get("resourceVersion") or ""
            dry = body.get("dryRun") or []
        else:
            o.grace_period_seconds = qp.int64(query, "gracePeriodSeconds")
            o.propagation_policy = qp.string(query, "propagationPolicy")
            o.orphan_dependents = qp.optional_flag(query, "orphanDependents")
            dry = qp.values(query, "dryRun")
        o.validate(dry)
        o.dry_run = bool(dry)
        return o

    def validate(self, dry_run: list[str]) -> None:
        """ValidateDeleteOptions: 422 on DeleteOptions naming the field."""
        if self.orphan_dependents is not None and self.propagation_policy:
            raise qp.invalid_options("DeleteOptions", "propagationPolicy",
                                     f'Invalid value: "{self.propagation_policy}": orphanDependents and '
                                     "deletionPropagation cannot be both set", "FieldValueInvalid")
        if self.propagation_policy and self.propagation_policy not in ("Orphan", "Background", "Foreground"):
            raise qp.invalid_options("DeleteOptions", "propagationPolicy",
                                     f'Unsupported value: "{self.propagation_policy}": supported values: '
                                     '"Foreground", "Background", "Orphan", "nil"', "FieldValueNotSupported")
        qp.dry_run({"dryRun": list(dry_run)}, "DeleteOptions")
