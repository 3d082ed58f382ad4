"""What differs between resources: the one object the generic store and the
HTTP layer ask about a kind.

The generic store (store.py) holds the rules every resource shares; a Strategy
subclass under resources/ says everything its kind does differently: defaults,
validation, the name rule, status resets, graceful deletion, field selectors,
the `kubectl get` table, conversions, subresources. The base class is what a
kind without special rules gets (upstream's default Name / Created At table,
DNS-subdomain names, no kind rules beyond the schema).

A subclass names the resources it serves in `serves` ((group, plural) pairs);
resources/__init__.py finds it there, so adding a kind edits no central table.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from openapi.catalogue import Resource

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import created_at_column, created_at_of, name_column, name_of
from apiserver.registry.settings import RegistrySettings
from apiserver.registry.validation import field, meta, schema

if TYPE_CHECKING:
    from apiserver.registry.store import GenericStore


class Strategy:
    # The (group, plural) pairs this class serves. Read from the class's own
    # body only, so a subclass serving another resource does not inherit it.
    serves: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Kinds whose body has a spec get metadata.generation, bumped on spec changes.
    has_spec = True
    # PUT without metadata.resourceVersion overwrites (most kinds allow it).
    allow_unconditional_update = True
    # PUT of a missing object creates it (upstream: endpoints, events, ...).
    allow_create_on_update = False
    # Extra field-selector fields beyond metadata.name/metadata.namespace.
    selectable_fields: tuple[str, ...] = ()
    # Versions sharing one storage (events): to_storage/from_storage convert.
    converts = False
    # Conversion that needs I/O (a CRD's conversion webhook): the store awaits
    # resolve() on what it reads and to_storage_async() on what it writes.
    converts_async = False
    # Writes answer with the object decoded back from what was stored, as upstream's
    # etcd store does, not with the object handed to storage: for kinds whose stored
    # version is not the one written and whose conversion may not be lossless.
    answers_from_storage = False
    # Strategic merge patch needs the kind's patch strategies (custom resources have none: 415).
    supports_strategic_merge = True

    def __init__(self, resource: Resource, settings: RegistrySettings = RegistrySettings()):
        self.resource = resource
        self.settings = settings
        self.has_status = resource.subresource("status") is not None

    # --- defaults and validation ---------------------------------------------
    def defaults(self, obj: dict) -> None:
        """Fill in what upstream's SetDefaults_* (and defaulting strategies) fill in."""

    def name_errors(self, name: str) -> list[str]:
        """Why `name` is not a valid name for this kind (empty: it is)."""
        return names.is_dns1123_subdomain(name)

    def validate(self, obj: dict) -> list[Cause]:
        """The kind's own rules for an object as it will be stored (create and update)."""
        return []

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        """Rules about the change itself (immutable fields...)."""
        return []

    def check_create(self, obj: dict) -> list[Cause]:
        """Every cause a create is refused for: ObjectMeta rules, the kind's rules,
        then the upstream schema for what those did not already report."""
        if not isinstance(obj, dict):
            return [field.type_invalid("", "object", "must be an object")]
        meta_causes = []
        if self.resource.stored:  # reviews and bindings are never stored under their own name
            meta_causes = meta.validate_object_meta(obj.get("metadata") or {}, self.resource.namespaced,
                                                    self.name_errors)
        return merge_causes(meta_causes, self.validate(obj), schema.validate(self.resource.schema, obj))

    def check_update(self, new: dict, old: dict) -> list[Cause]:
        """Every cause an update is refused for (as check_create, plus the change's rules)."""
        if not isinstance(new, dict):
            return [field.type_invalid("", "object", "must be an object")]
        old = old if isinstance(old, dict) else {}
        meta_causes = meta.validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
        return merge_causes(meta_causes, self.validate_update(new, old), self.validate(new),
                            schema.validate(self.resource.schema, new))

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

    def subresource_handlers(self) -> dict:
        """Subresources other than status: name -> handler (registry.subresources)."""
        return {}

    # --- delete -------------------------------------------------------------
    def grace_period(self, obj: dict, requested: int | None) -> int:
        """Seconds of graceful deletion (0: delete at once). Pods override."""
        return 0

    # --- reading ------------------------------------------------------------
    def fields(self, obj: dict) -> dict[str, str]:
        """The values field selectors see."""
        meta_ = obj.get("metadata") or {}
        f = {"metadata.name": meta_.get("name", "")}
        if self.resource.namespaced:
            f["metadata.namespace"] = meta_.get("namespace", "")
        for path in self.selectable_fields:
            f[path] = _dig(obj, path)
        return f

    def supported_fields(self) -> tuple[str, ...]:
        base = ("metadata.name", "metadata.namespace") if self.resource.namespaced else ("metadata.name",)
        return base + self.selectable_fields

    # --- `kubectl get` (meta.k8s.io Table) -------------------------------------
    def columns(self) -> list[dict]:
        """Table column definitions, wide (priority 1) ones included: kubectl
        hides those unless -o wide. Upstream's default: Name and Created At."""
        return [name_column(), created_at_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        """One object's row, in the order of columns()."""
        return [name_of(obj), created_at_of(obj) or "<unknown>"]

    # --- versions sharing one storage (events) ------------------------------
    def to_storage(self, obj: dict) -> dict:
        return obj

    def from_storage(self, obj: dict) -> dict:
        return obj


def merge_causes(*groups: list[Cause]) -> list[Cause]:
    """Concatenate, dropping a cause for a field+reason an earlier group already reported."""
    seen: set[tuple[str, str]] = set()
    out: list[Cause] = []
    for group in groups:
        out.extend(c for c in group if (c.field, c.reason) not in seen)
        seen.update((c.field, c.reason) for c in group)
    return out


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
