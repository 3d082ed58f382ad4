"""Namespaces: DNS-1123 label names, a metadata.name label, and deletion as a
phase (Terminating) until spec.finalizers empties.

The namespace controller deletes the namespace's content, then removes its
`kubernetes` finalizer through /finalize; when spec.finalizers and
metadata.finalizers are both empty the namespace is deleted for real.
"""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import errors, names
from apiserver.machinery.errors import Cause
from apiserver.registry.context import WriteContext
from apiserver.registry.defaulting import dict_at
from apiserver.registry.deletion import _check_preconditions, _wanted_finalizers, delete_now
from apiserver.registry.objects import now_rfc3339
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import meta


class NamespaceStrategy(Strategy):
    serves = (("", "namespaces"),)
    has_spec = False
    selectable_fields = ("status.phase",)

    def defaults(self, obj: dict) -> None:
        meta_ = dict_at(obj, "metadata")
        name = meta_.get("name")
        if name:
            dict_at(meta_, "labels")["kubernetes.io/metadata.name"] = name
        spec = dict_at(obj, "spec")
        if "finalizers" not in spec:
            spec["finalizers"] = ["kubernetes"]
        dict_at(obj, "status").setdefault("phase", "Active")

    def name_errors(self, name: str) -> list[str]:
        return names.is_dns1123_label(name)

    def validate(self, obj: dict) -> list[Cause]:
        return meta.validate_finalizers((obj.get("spec") or {}).get("finalizers"), "spec.finalizers")

    def columns(self) -> list[dict]:
        return [name_column(), col("Status", "The status of the namespace"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), (obj.get("status") or {}).get("phase", ""), age_of(obj, now)]

    def prepare_for_create(self, obj: dict) -> None:
        obj["status"] = {"phase": "Active"}
        spec = obj.setdefault("spec", {})
        if "kubernetes" not in (spec.get("finalizers") or []):
            spec["finalizers"] = list(spec.get("finalizers") or []) + ["kubernetes"]

    def prepare_for_update(self, new: dict, old: dict) -> None:
        # spec.finalizers change only through /finalize; status through /status
        new["status"] = old.get("status", {})
        # kept even when empty: defaulting fills in an absent list with "kubernetes"
        new.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers") or []

    def subresource_handlers(self) -> dict:
        return {"finalize": FinalizeHandler()}

    async def delete(self, store, namespace, name, current, opts, ctx: WriteContext):
        """Mark Terminating while finalizers remain; delete when none do."""
        result = {}

        async def transform(ns: dict) -> dict:
            _check_preconditions(store, name, ns, opts)
            meta = ns["metadata"]
            finalizers = _wanted_finalizers(meta, opts)
            if finalizers:
                meta["finalizers"] = finalizers
            spec_fin = (ns.get("spec") or {}).get("finalizers") or []
            if not spec_fin and not finalizers:
                result["now"] = True
                return ns
            if "deletionTimestamp" not in meta:
                meta["deletionTimestamp"] = now_rfc3339()
                meta["deletionGracePeriodSeconds"] = 0
            ns.setdefault("status", {})["phase"] = "Terminating"
            return ns

        stored = await store.guaranteed_update("", name, transform, ctx, subresource="delete",
                                               operation="UPDATE")
        if result.get("now"):
            return await delete_now(store, "", name, stored, ctx, opts), True
        return stored, False


class FinalizeHandler:
    """PUT namespaces/<name>/finalize: replace spec.finalizers only."""

    async def update(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> dict:
        if body.get("kind") not in (None, "Namespace"):
            raise errors.bad_request(f'expected Namespace, got {body.get("kind")}')
        wanted = list((body.get("spec") or {}).get("finalizers") or [])
        rv = (body.get("metadata") or {}).get("resourceVersion")

        async def transform(ns: dict) -> dict:
            if rv and ns["metadata"].get("resourceVersion") != rv:
                raise errors.stale_update("", "namespaces", name)
            # an empty list, not an absent one: defaulting fills in an absent list
            ns.setdefault("spec", {})["finalizers"] = wanted
            return ns

        stored = await store.guaranteed_update("", name, transform, ctx, subresource="finalize")
        meta = stored.obj["metadata"]
        if (meta.get("deletionTimestamp") and not meta.get("finalizers")
                and not (stored.obj.get("spec") or {}).get("finalizers") and stored.revision):
            gone = await delete_now(store, "", name, stored, ctx)
            return gone.obj
        return stored.obj
