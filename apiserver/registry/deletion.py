"""Deletion rules shared by every resource.

DELETE either removes the key at once, or marks the object (deletionTimestamp,
deletionGracePeriodSeconds) and leaves it in place: when the kind deletes
gracefully (pods on a node), or when finalizers remain (including the
`orphan`/`foregroundDeletion` finalizers a propagation policy asks for; the
garbage collector removes those). An update that removes the last finalizer
of a marked object deletes it (store.py calls delete_now).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from apiserver.machinery import errors
from apiserver.registry.attributes import Attributes
from apiserver.registry.context import WriteContext
from apiserver.registry.objects import StoredObject, now_rfc3339
from apiserver.registry.options import DeleteOptions, ListOptions
from apiserver.storage.interface import KeyNotFoundError, RevisionConflictError

if TYPE_CHECKING:
    from apiserver.registry.store import GenericStore

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


def _precondition_failed(store: "GenericStore", name: str, what: str, want: str, have: str) -> errors.StatusError:
    r = store.resource
    return errors.conflict(r.group, r.plural, name,
                           f"Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}")


def _check_preconditions(store: "GenericStore", name: str, obj: dict, opts: DeleteOptions) -> None:
    meta = obj["metadata"]
    if opts.uid and opts.uid != meta.get("uid"):
        raise _precondition_failed(store, name, "UID", opts.uid, meta.get("uid", ""))
    if opts.resource_version and opts.resource_version != meta.get("resourceVersion"):
        raise _precondition_failed(store, name, "ResourceVersion", opts.resource_version,
                                   meta.get("resourceVersion", ""))


def _wanted_finalizers(meta: dict, opts: DeleteOptions) -> list[str]:
    finalizers = list(meta.get("finalizers") or [])
    policy = opts.propagation_policy
    if not policy and opts.orphan_dependents is not None:
        policy = "Orphan" if opts.orphan_dependents else "Background"
    if policy == "Orphan" and ORPHAN not in finalizers:
        finalizers.append(ORPHAN)
        if FOREGROUND in finalizers:
            finalizers.remove(FOREGROUND)
    elif policy == "Foreground" and FOREGROUND not in finalizers:
        finalizers.append(FOREGROUND)
        if ORPHAN in finalizers:
            finalizers.remove(ORPHAN)
    elif policy == "Background":
        finalizers = [f for f in finalizers if f not in (ORPHAN, FOREGROUND)] if not meta.get(
            "deletionTimestamp") else finalizers
    return finalizers


async def delete(store: "GenericStore", namespace: str, name: str, opts: DeleteOptions,
                 ctx: WriteContext) -> tuple[StoredObject, bool]:
    """Returns (object, deleted now). When not deleted now the object stays,
    marked for deletion."""
    r = store.resource
    current = await store.get(namespace, name)
    obj = current.copy()
    _check_preconditions(store, name, obj, opts)
    attrs = Attributes("DELETE", r, "", namespace, name, None, obj, ctx.user, ctx.dry_run, ctx.options)
    await ctx.mutate(attrs)
    await ctx.validate(attrs)
    ctx.warnings.extend(attrs.warnings)
    custom = getattr(store.strategy, "delete", None)
    if custom is not None:
        return await custom(store, namespace, name, current, opts, ctx)
    meta = obj["metadata"]
    grace = store.strategy.grace_period(obj, opts.grace_period_seconds)
    finalizers = _wanted_finalizers(meta, opts)
    if grace == 0 and not finalizers:
        return await delete_now(store, namespace, name, current, ctx, opts), True
    return await mark_for_deletion(store, namespace, name, grace, finalizers, ctx, opts), False


async def mark_for_deletion(store: "GenericStore", namespace: str, name: str, grace: int,
                            finalizers: list[str], ctx: WriteContext, opts: DeleteOptions) -> StoredObject:
    """Set deletionTimestamp (kept from an earlier delete unless the grace got
    shorter) and the finalizers; the object stays. If the grace ended (0) and
    no finalizers remain, delete instead."""

    async def transform(obj: dict) -> dict:
        _check_preconditions(store, name, obj, opts)
        meta = obj["metadata"]
        fins = _wanted_finalizers(meta, opts)  # from the version being written
        if fins:
            meta["finalizers"] = fins
        else:
            meta.pop("finalizers", None)
        old_grace = meta.get("deletionGracePeriodSeconds")
        if "deletionTimestamp" not in meta or (old_grace is not None and grace < old_grace):
            meta["deletionTimestamp"] = now_rfc3339()
            meta["deletionGracePeriodSeconds"] = grace
        return obj

    stored = await store.guaranteed_update(namespace, name, transform, ctx, subresource="delete")
    meta = stored.obj["metadata"]
    if stored.revision and not meta.get("finalizers") and meta.get("deletionGracePeriodSeconds") == 0:
        return await delete_now(store, namespace, name, stored, ctx, opts)
    return stored


async def delete_now(store: "GenericStore", namespace: str, name: str, current: StoredObject,
                     ctx: WriteContext, opts: DeleteOptions | None = None) -> StoredObject:
    """Remove the key (conditioned on the version we decided on)."""
    r = store.resource
    if ctx.dry_run:
        return current
    key = store.key(namespace, name)
    try:
        last = await store.storage.delete(key, expected_revision=current.revision or None)
    except KeyNotFoundError:
        raise store.not_found(name) from None
    except RevisionConflictError:
        # changed under us: decide again on the new version
        again = await store.get(namespace, name)
        if opts is not None:
            _check_preconditions(store, name, again.obj, opts)
        meta = again.obj["metadata"]
        if meta.get("finalizers"):
            return again
        return await delete_now(store, namespace, name, again, ctx, opts)
    gone = (await store.resolve([store.cache.get(last)]))[0]
    await store.strategy.after_delete(store, gone.obj)
    return gone


async def delete_collection(store: "GenericStore", namespace: str, list_opts: ListOptions,
                            opts: DeleteOptions, ctx: WriteContext) -> list[StoredObject]:
    page = await store.list(namespace, ListOptions(label_selector=list_opts.label_selector,
                                                   field_selector=list_opts.field_selector))
    out = []
    for item in page.items:
        meta = item.obj["metadata"]
        try:
            obj, _ = await delete(store, meta.get("namespace", ""), meta["name"], opts, ctx)
        except errors.StatusError as e:
            if e.code == 404:
                continue
            raise
        out.append(obj)
    return out
