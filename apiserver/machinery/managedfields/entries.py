"""metadata.managedFields: who owns which fields, kept up to date on every write.

Each entry is one manager's field set for one operation (Apply or Update), API
version and subresource. Every write by every verb goes through
`update_managed_fields` (create, update, patch) or `apply.apply` (server-side
apply): the fields a write adds or changes go to its manager and are taken
from the others; fields it removes leave its manager.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from apiserver.machinery import schemas

from . import fieldpaths as fp
from . import typed
from .fieldpaths import Path

APPLY, UPDATE = "Apply", "Update"

# Fields nobody owns: identity and server-kept bookkeeping (upstream strips the same).
_STRIPPED_EXACT: set[Path] = {("f:metadata",)}
_STRIPPED_PREFIXES: tuple[Path, ...] = (
    ("f:apiVersion",), ("f:kind",),
    ("f:metadata", "f:name"), ("f:metadata", "f:namespace"), ("f:metadata", "f:creationTimestamp"),
    ("f:metadata", "f:selfLink"), ("f:metadata", "f:uid"), ("f:metadata", "f:clusterName"),
    ("f:metadata", "f:generation"), ("f:metadata", "f:managedFields"), ("f:metadata", "f:resourceVersion"),
)


@dataclass(slots=True)
class Entry:
    manager: str
    operation: str
    api_version: str
    subresource: str = ""
    time: str | None = None
    fields: set[Path] = field(default_factory=set)

    @property
    def identity(self) -> tuple[str, str, str, str]:
        # Appliers keep one entry whatever version they apply with (as upstream).
        return (self.manager, self.operation, "" if self.operation == APPLY else self.api_version, self.subresource)

    def describe(self) -> str:
        """How conflict messages name a manager: `"kubectl-edit" using v1`, `"kubectl"`."""
        out = f'"{self.manager}"'
        if self.subresource:
            out += f' with subresource "{self.subresource}"'
        if self.operation == UPDATE:
            out += f" using {self.api_version}"
        return out


def decode(managed: Any) -> list[Entry]:
    out: list[Entry] = []
    if not isinstance(managed, list):
        return out
    for m in managed:
        if not isinstance(m, dict):
            continue
        out.append(Entry(
            manager=m.get("manager", ""), operation=m.get("operation", UPDATE),
            api_version=m.get("apiVersion", ""), subresource=m.get("subresource", ""),
            time=m.get("time"), fields=fp.from_fields_v1(m.get("fieldsV1")),
        ))
    return out


def encode(entries: Iterable[Entry]) -> list[dict]:
    """Entries as stored: empty ones dropped, sorted as upstream sorts them."""
    kept = [e for e in entries if e.fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    out = []
    for e in kept:
        d = {"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version}
        if e.time:
            d["time"] = e.time
        d["fieldsType"] = "FieldsV1"
        d["fieldsV1"] = fp.to_fields_v1(e.fields)
        if e.subresource:
            d["subresource"] = e.subresource
        out.append(d)
    return out


def owned(paths: set[Path], ignored: Iterable[Path] = ()) -> set[Path]:
    """Paths that can be owned: without stripped bookkeeping and reset (ignored) fields."""
    kept = fp.without_prefixes(paths, _STRIPPED_PREFIXES + tuple(ignored))
    return kept - _STRIPPED_EXACT


def schema_for(obj: dict, schema: dict | None) -> dict | None:
    if schema is not None:
        return schema
    api_version = obj.get("apiVersion", "")
    group, _, version = api_version.rpartition("/")
    return schemas.for_kind(group, version, obj.get("kind", ""))


def metadata(obj) -> dict:
    """obj.metadata when it is an object, else an empty one (malformed input is validated elsewhere)."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def without_managed_fields(obj: dict | None) -> dict:
    if not obj:
        return {}
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out


def empty_like(new: dict, schema: dict | None) -> dict:
    """What a create starts from: the top-level structs exist, empty (as a zero object has them)."""
    sh = typed.shape(schema)
    out = {}
    for k, v in new.items():
        if isinstance(v, dict) and typed.shape(sh.child(k)).kind == typed.STRUCT:
            out[k] = {}
    return out


def is_reset_request(obj: dict) -> bool:
    """`managedFields: [{}]` asks to drop all ownership records."""
    mf = metadata(obj).get("managedFields")
    return isinstance(mf, list) and len(mf) == 1 and mf[0] == {}


def find(entries: list[Entry], manager: str, operation: str, api_version: str, subresource: str) -> Entry:
    probe = Entry(manager, operation, api_version, subresource)
    for e in entries:
        if e.identity == probe.identity:
            e.api_version = api_version
            return e
    entries.append(probe)
    return probe


MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"


def cap_update_managers(entries: list[Entry]) -> list[Entry]:
    """At most ten Update entries: the oldest are folded into one `ancient-changes`
    entry per API version (as upstream), so objects written by many clients stay small."""
    updaters = sorted((e for e in entries if e.operation == UPDATE and e.fields),
                      key=lambda e: (e.time or "", e.manager))
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return entries
    drop: set[int] = set()
    buckets: dict[str, Entry] = {}
    first: dict[str, Entry] = {}
    remaining = len(updaters)
    for e in updaters:
        if remaining <= MAX_UPDATE_MANAGERS:
            break
        if e.api_version not in first:
            first[e.api_version] = e
            continue
        bucket = buckets.get(e.api_version)
        if bucket is None:
            head = first[e.api_version]
            bucket = buckets[e.api_version] = Entry(ANCIENT_CHANGES, UPDATE, e.api_version, "", head.time,
                                                    set(head.fields))
            drop.add(id(head))
        bucket.fields |= e.fields
        bucket.time = e.time  # the more recent of the two
        drop.add(id(e))
        remaining -= 1
    return [e for e in entries if id(e) not in drop] + list(buckets.values())


def set_managed_fields(obj: dict, entries: list[Entry]) -> None:
    encoded = encode(cap_update_managers(entries))
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    if encoded:
        meta["managedFields"] = encoded
    else:
        meta.pop("managedFields", None)


def update_managed_fields(old: dict | None, new: dict, manager: str, operation: str = UPDATE, *,
                          api_version: str, now: str, subresource: str = "", schema: dict | None = None,
                          ignored: Iterable[Path] = ()) -> dict:
    """Record a create/update/patch by `manager` in new.metadata.managedFields (in place; returns new).

    old is the stored object (None for a create). Managed fields the client sent
    itself are honoured as the starting point (that is how clients edit them);
    otherwise the stored ones are.
    """
    if is_reset_request(new):
        new["metadata"].pop("managedFields", None)
        return new
    schema = schema_for(new, schema)
    sent = metadata(new).get("managedFields")
    stored = metadata(old).get("managedFields") if old else None
    entries = decode(sent) if (sent and not subresource) else []
    if not entries:  # nothing usable sent: keep what is stored (clients that drop the field lose nothing)
        entries = decode(stored)
    ignored = tuple(ignored)
    before = without_managed_fields(old) if old is not None else empty_like(new, schema)
    after = without_managed_fields(new)
    # Top-level parts this write cannot own (spec on /status...) need no diffing at all.
    skipped = {p[0][2:] for p in ignored if len(p) == 1}
    if skipped:
        before = {k: v for k, v in before.items() if k not in skipped}
        after = {k: v for k, v in after.items() if k not in skipped}
    changed, removed = typed.compare(before, after, schema)
    changed = owned(changed, ignored)
    me = find(entries, manager, operation, api_version, subresource)
    for e in entries:
        if e is not me:
            e.fields -= changed
    me.fields = owned((me.fields | changed) - removed, ignored)
    if changed:  # only a write that set something moves its manager's time (a no-op stays a no-op)
        me.time = now
    set_managed_fields(new, entries)
    return new
