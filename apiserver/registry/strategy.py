"""What differs between resources, as a small class the generic store asks.

The generic store (store.py) holds the rules every resource shares; a Strategy
subclass in resources/<plural>.py overrides only what its kind does differently
(status subresource resets, graceful deletion, field selectors, conversions).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from openapi.catalogue import Resource

if TYPE_CHECKING:
    from apiserver.registry.store import GenericStore


class Strategy:
    # Kinds whose body has a spec get metadata.generation, bumped on spec changes.
    has_spec = True
    # PUT without metadata.resourceVersion overwrites (most kinds allow it).
    allow_unconditional_update = True
    # PUT of a missing object creates it (upstream: endpoints, events, ...).
    allow_create_on_update = False
    # Extra field-selector fields beyond metadata.name/metadata.namespace.
    selectable_fields: tuple[str, ...] = ()

    def __init__(self, resource: Resource):
        self.resource = resource
        self.has_status = resource.subresource("status") is not None

    # --- create / update ---------------------------------------------------
    def prepare_for_create(self, obj: dict) -> None:
        """Reset what a client may not set on create (status, when the kind has
        a status subresource: status is written through /status only)."""
        if self.has_status:
            obj.pop("status", None)

    def prepare_for_update(self, new: dict, old: dict) -> None:
        """The main resource ignores status changes (written via /status)."""
        if self.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)

    def prepare_for_status_update(self, new: dict, old: dict) -> None:
        """/status ignores everything but status and metadata, as upstream's status
        strategies do (they reset the spec; labels and annotations written through
        /status stick: the conformance rows for pod and service status patch them).
        Owner references stay as they were: a status writer may not re-parent."""
        for k, v in old.items():
            if k not in ("status", "metadata"):
                new[k] = v
        for k in list(new):
            if k not in old and k not in ("status", "metadata", "apiVersion", "kind"):
                del new[k]
        nm, om = new.setdefault("metadata", {}), old.get("metadata") or {}
        for f in ("ownerReferences",):
            if f in om:
                nm[f] = om[f]
            else:
                nm.pop(f, None)

    def spec_changed(self, new: dict, old: dict) -> bool:
        """Whether this update bumps metadata.generation."""
        return new.get("spec") != old.get("spec")

    async def before_create(self, store: "GenericStore", obj: dict, dry_run: bool) -> None:
        """Last step before the object is written (allocators hook in here)."""

    async def after_delete(self, store: "GenericStore", obj: dict) -> None:
        """Called once an object is gone from the store (allocators release here)."""

    async def before_update(self, store: "GenericStore", new: dict, old: dict, dry_run: bool) -> None:
        """Last step before an updated object is written."""

    # --- delete -------------------------------------------------------------
    def grace_period(self, obj: dict, requested: int | None) -> int:
        """Seconds of graceful deletion (0: delete at once). Pods override."""
        return 0

    # --- reading ------------------------------------------------------------
    def fields(self, obj: dict) -> dict[str, str]:
        """The values field selectors see."""
        meta = obj.get("metadata") or {}
        f = {"metadata.name": meta.get("name", "")}
        if self.resource.namespaced:
            f["metadata.namespace"] = meta.get("namespace", "")
        for path in self.selectable_fields:
            f[path] = _dig(obj, path)
        return f

    def supported_fields(self) -> tuple[str, ...]:
        base = ("metadata.name", "metadata.namespace") if self.resource.namespaced else ("metadata.name",)
        return base + self.selectable_fields

    # --- versions sharing one storage (events) ------------------------------
    def to_storage(self, obj: dict) -> dict:
        return obj

    def from_storage(self, obj: dict) -> dict:
        return obj

    converts = False


def _dig(obj: dict, path: str) -> str:
    cur: object = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)
