"""The Strategy of a custom resource, built from its CRD at run time: the
version's structural schema validates, defaults and prunes; additionalPrinterColumns
make the table; /status and /scale follow the CRD's subresources; every served
version shares one storage version: with `None` conversion only apiVersion changes,
with `Webhook` conversion the CRD's webhook converts (conversion.py), awaited by
the store on every read and write in another version than the stored one.

Where each schema applies is upstream's (apiextensions-apiserver's storage codec):
a request is pruned, defaulted and validated in its own version; converted to the
storage version it is pruned by that version's schema before it is stored; read
back, an object is pruned and defaulted by the schema of the version it is stored
in, converted, then pruned by the schema of the version served. Writes answer with
the object read back that way (`answers_from_storage`), as upstream's etcd store
decodes what it wrote: a version other than the storage one answers the webhook's
round trip, not the body as sent.
"""
from __future__ import annotations

import copy
from datetime import datetime

from openapi.catalogue import Resource

from apiserver.machinery import errors
from apiserver.machinery.errors import Cause
from apiserver.registry.context import WriteContext
from apiserver.registry.customresources import cel, definitions, jsonpath, schema
from apiserver.registry.customresources.conversion import WebhookConverter
from apiserver.registry.printing.columns import col, name_column, name_of
from apiserver.registry.printing.humanize import age
from apiserver.registry.strategy import Strategy, merge_causes
from apiserver.registry.validation import field, meta

_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


class CustomResourceStrategy(Strategy):
    converts = True
    answers_from_storage = True
    # Custom resources have no patch strategies: upstream answers 415 for strategic merge.
    supports_strategic_merge = False

    def __init__(self, resource: Resource, crd: dict, version: dict, converter: WebhookConverter | None = None):
        super().__init__(resource)
        self.converter = converter
        self.converts_async = converter is not None
        spec = crd.get("spec") or {}
        self.schema = definitions.version_schema(crd, version)
        self.storage_api_version = f"{spec.get('group')}/{definitions.storage_version(crd)}"
        # every version's schema: objects are read in the version they are stored in
        self.schemas = {v.get("name"): definitions.version_schema(crd, v) for v in spec.get("versions") or ()
                        if isinstance(v, dict)}
        self.printer_columns = list(version.get("additionalPrinterColumns") or []) or [_AGE]
        self.selectable_fields = tuple(f["jsonPath"].lstrip(".") for f in version.get("selectableFields") or ()
                                       if isinstance(f, dict) and f.get("jsonPath"))
        self.scale = (version.get("subresources") or {}).get("scale")

    # Set by the CRD controller once the CRD is being deleted: no new objects then.
    terminating = False

    async def before_create(self, store, obj: dict, dry_run: bool) -> None:
        if self.terminating:
            raise errors.method_not_allowed("create not allowed while custom resource definition is terminating")

    # --- conversion -------------------------------------------------------------
    def to_storage(self, obj: dict) -> dict:
        """`None` conversion: only apiVersion changes; the storage version's schema prunes."""
        return self._pruned(copy.deepcopy({**obj, "apiVersion": self.storage_api_version}))

    async def to_storage_async(self, obj: dict) -> dict:
        return self._pruned((await self.converter.convert([obj], self.storage_api_version))[0])

    async def resolve(self, items, as_list: bool = False) -> None:
        """Serve stored objects in this version: the ones stored in another version go to
        the webhook, all in one review. The served form is kept in the store's cache under
        (key, revision), its own per version and per CRD spec: those stored bytes are
        converted to this version once, and a webhook must answer the same bytes the same
        way (upstream asks it again on every read)."""
        pending = [so for so in items if not so.decoded]
        if not pending:
            return
        stored = [self._as_stored(so.stored_form()) for so in pending]
        served = await self.converter.convert(stored, self.resource.api_version, as_list)
        for so, obj in zip(pending, served):
            so.serve(self._pruned(obj))

    def from_storage(self, obj: dict) -> dict:
        """`None` conversion of an object as stored into this version."""
        obj = self._as_stored(obj)
        obj["apiVersion"] = self.resource.api_version
        return self._pruned(obj)

    def _as_stored(self, obj: dict) -> dict:
        """Pruned and defaulted by the schema of the version it is stored in (defaults
        the schema gained since it was written appear, as upstream)."""
        s = self.schemas.get(str(obj.get("apiVersion", "")).rpartition("/")[2])
        if s is not None:
            schema.prune(s, obj)
            schema.apply_defaults(_without_metadata(s), obj)
        return obj

    def _pruned(self, obj: dict) -> dict:
        """Pruned by the schema of the version it is in now."""
        s = self.schemas.get(str(obj.get("apiVersion", "")).rpartition("/")[2])
        if s is not None:
            schema.prune(s, obj)
        return obj

    # --- schema: pruning, defaulting, validation --------------------------------
    def defaults(self, obj: dict) -> None:
        schema.prune(self.schema, obj)
        schema.apply_defaults(_without_metadata(self.schema), obj)

    def _schema_causes(self, obj: dict, old: dict | None = None) -> list[Cause]:
        s = _without_metadata(self.schema)
        body = {k: v for k, v in obj.items() if k != "metadata"}
        causes = schema.validate(s, body)
        if causes:   # CEL rules run on values of the declared types only, as upstream
            return causes
        if old is None:
            return cel.validate(s, body)
        return cel.validate(s, body, {k: v for k, v in old.items() if k != "metadata"})

    def check_create(self, obj: dict) -> list[Cause]:
        meta_causes = meta.validate_object_meta(obj.get("metadata") or {}, self.resource.namespaced,
                                                self.name_errors)
        return merge_causes(meta_causes, self._schema_causes(obj))

    def check_update(self, new: dict, old: dict) -> list[Cause]:
        meta_causes = meta.validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
        return merge_causes(meta_causes, self._schema_causes(new, old))

    def spec_changed(self, new: dict, old: dict) -> bool:
        """Upstream bumps a custom resource's generation on any change but metadata
        (and status, when status is a subresource)."""
        skip = ("metadata", "status") if self.has_status else ("metadata",)
        return {k: v for k, v in new.items() if k not in skip} != {k: v for k, v in old.items() if k not in skip}

    # --- table ----------------------------------------------------------------------
    def columns(self) -> list[dict]:
        return [name_column()] + [col(c.get("name", ""), c.get("description", ""), c.get("type", "string"),
                                      c.get("priority", 0), c.get("format", ""))
                                  for c in self.printer_columns]

    def cells(self, obj: dict, now: datetime) -> list:
        row: list = [name_of(obj)]
        for c in self.printer_columns:
            value = jsonpath.first(obj, c.get("jsonPath", ""))
            if c.get("type") == "date" and isinstance(value, str):
                value = age(value, now)
            elif value is not None and c.get("type") in ("string", None) and not isinstance(value, str):
                value = jsonpath.as_text(value)
            row.append(value)
        return row

    # --- subresources ---------------------------------------------------------------
    def subresource_handlers(self) -> dict:
        return {"scale": CustomScale(self.scale)} if self.scale is not None else {}


def _without_metadata(s: dict) -> dict:
    """ObjectMeta is validated by its own rules; the schema describes the rest."""
    props = s.get("properties")
    if not props or "metadata" not in props:
        return s
    return {**s, "properties": {k: v for k, v in props.items() if k != "metadata"}}


class CustomScale:
    """autoscaling/v1 Scale over the paths the CRD's scale subresource names."""

    def __init__(self, spec: dict):
        self.spec_path = spec.get("specReplicasPath", ".spec.replicas")
        self.status_path = spec.get("statusReplicasPath", ".status.replicas")
        self.selector_path = spec.get("labelSelectorPath")

    def scale_of(self, obj: dict) -> dict:
        m = obj["metadata"]
        status = {"replicas": jsonpath.first(obj, self.status_path) or 0}
        if self.selector_path:
            selector = jsonpath.first(obj, self.selector_path)
            if isinstance(selector, str) and selector:
                status["selector"] = selector
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in m},
                "spec": {"replicas": jsonpath.first(obj, self.spec_path) or 0}, "status": status}

    async def get(self, store, namespace: str, name: str) -> dict:
        return self.scale_of((await store.get(namespace, name)).obj)

    @staticmethod
    def _replicas(body: dict, name: str) -> int:
        replicas = (body.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid("autoscaling", "Scale", name, [field.invalid(
                "spec.replicas", replicas, "must be greater than or equal to 0")])
        return replicas

    async def update(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> dict:
        self._replicas(body, name)   # a bad body is refused before the object is read
        return await self.patch(store, namespace, name, lambda _scale: body, ctx)

    async def patch(self, store, namespace: str, name: str, patched, ctx: WriteContext) -> dict:
        """`patched(scale)`: the Scale wanted, computed inside the store's read-modify-write loop
        (as ScaleSubresource.patch)."""
        async def transform(obj: dict) -> dict:
            body = patched(self.scale_of(obj))
            replicas = self._replicas(body, name)
            rv = (body.get("metadata") or {}).get("resourceVersion")
            if rv and obj["metadata"].get("resourceVersion") != rv:
                raise errors.stale_update(store.resource.group, store.resource.plural, name)
            jsonpath.set_value(obj, self.spec_path, replicas)
            return obj

        stored = await store.guaranteed_update(namespace, name, transform, ctx, subresource="scale")
        return self.scale_of(stored.obj)
