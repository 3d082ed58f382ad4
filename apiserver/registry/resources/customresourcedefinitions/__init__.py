"""apiextensions.k8s.io/v1 CustomResourceDefinitions.

The CRD object itself: defaults, validation (validation.py), and deletion as
upstream's: the first DELETE adds the `customresourcecleanup.apiextensions.k8s.io`
finalizer and a Terminating condition; the server's CRD controller
(registry/customresources/controller.py) removes every custom resource, then
the finalizer, and the CRD goes. Serving the custom resources (NamesAccepted,
Established, routes, discovery, OpenAPI) is that controller's work too.
"""
from __future__ import annotations

from apiserver.machinery.errors import Cause
from apiserver.registry.objects import StoredObject, now_rfc3339
from apiserver.registry.strategy import Strategy

from .validation import validate_crd, validate_crd_update

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def set_condition(crd: dict, ctype: str, status: str, reason: str, message: str) -> None:
    """Set one status condition; lastTransitionTime moves only when the status does."""
    conds = crd.setdefault("status", {}).setdefault("conditions", [])
    for c in conds:
        if c.get("type") == ctype:
            if c.get("status") != status:
                c["lastTransitionTime"] = now_rfc3339()
            c.update(status=status, reason=reason, message=message)
            return
    conds.append({"type": ctype, "status": status, "lastTransitionTime": now_rfc3339(), "reason": reason,
                  "message": message})


def condition(crd: dict, ctype: str) -> dict | None:
    for c in (crd.get("status") or {}).get("conditions") or ():
        if c.get("type") == ctype:
            return c
    return None


class CustomResourceDefinitionStrategy(Strategy):
    serves = (("apiextensions.k8s.io", "customresourcedefinitions"),)

    def name_errors(self, name: str) -> list[str]:
        return []  # the name is checked against spec.names.plural + spec.group in validate

    def defaults(self, obj: dict) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        names = spec.get("names")
        if isinstance(names, dict) and isinstance(names.get("kind"), str):
            names.setdefault("singular", names["kind"].lower())
            names.setdefault("listKind", names["kind"] + "List")
        conv = spec.setdefault("conversion", {"strategy": "None"})
        if isinstance(conv, dict):
            conv.setdefault("strategy", "None")

    def validate(self, obj: dict) -> list[Cause]:
        return validate_crd(obj)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return validate_crd_update(new, old)

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"acceptedNames": {"plural": "", "kind": ""}, "conditions": [],
                         "storedVersions": _storage_versions(obj)}

    def prepare_for_update(self, new: dict, old: dict) -> None:
        super().prepare_for_update(new, old)
        stored = list(((new.get("status") or {}).get("storedVersions")) or [])
        for v in _storage_versions(new):
            if v not in stored:
                stored.append(v)
        if stored:
            new.setdefault("status", {})["storedVersions"] = stored

    async def delete(self, store, namespace: str, name: str, current: StoredObject, opts, ctx):
        """Mark for deletion with the cleanup finalizer; the CRD controller finishes it."""
        from apiserver.registry.deletion import _check_preconditions

        async def transform(obj: dict) -> dict:
            _check_preconditions(store, name, obj, opts)
            meta = obj["metadata"]
            fins = list(meta.get("finalizers") or [])
            if CLEANUP_FINALIZER not in fins and "deletionTimestamp" not in meta:
                fins.append(CLEANUP_FINALIZER)
            if fins:
                meta["finalizers"] = fins
            meta.setdefault("deletionTimestamp", now_rfc3339())
            meta.setdefault("deletionGracePeriodSeconds", 0)
            set_condition(obj, "Terminating", "True", "InstanceDeletionPending",
                          "CustomResourceDefinition marked for deletion; instance deletion is pending")
            return obj

        stored = await store.guaranteed_update(namespace, name, transform, ctx, subresource="delete")
        if not stored.obj["metadata"].get("finalizers") and stored.revision:
            from apiserver.registry.deletion import delete_now
            return await delete_now(store, namespace, name, stored, ctx, opts), True
        return stored, False


def _storage_versions(crd: dict) -> list[str]:
    return [v["name"] for v in (crd.get("spec") or {}).get("versions") or ()
            if isinstance(v, dict) and v.get("storage") and isinstance(v.get("name"), str)]
