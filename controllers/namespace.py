"""Namespace deletion: empty a Terminating namespace, then let it go.

Everything namespaced that discovery reports as deletable is deleted (not a hand
list, so custom resources go too). While content remains (pods finishing, objects
with finalizers) the namespace's conditions say what is left, and the namespace
is looked at again shortly. When nothing is left, the `kubernetes` finalizer is
removed through the `finalize` subresource and the API server removes the object.
"""
from __future__ import annotations

import asyncio
import logging

from kubeclient import ApiError, timestamps
from kubeclient.discovery import discover
from kubeclient.resources import NAMESPACES

from .base import Controller

log = logging.getLogger(__name__)
FINALIZER = "kubernetes"


# condition type -> (reason when True, reason when False), as upstream names them
CONDITION_REASONS = {
    "NamespaceDeletionDiscoveryFailure": ("DiscoveryFailed", "ResourcesDiscovered"),
    "NamespaceDeletionGroupVersionParsingFailure": ("GroupVersionParsingFailed", "ParsedGroupVersions"),
    "NamespaceDeletionContentFailure": ("ContentDeletionFailed", "ContentDeleted"),
    "NamespaceContentRemaining": ("SomeResourcesRemain", "ContentRemoved"),
    "NamespaceFinalizersRemaining": ("SomeFinalizersRemain", "ContentHasNoFinalizers"),
}


def remaining_conditions(counts: dict[str, int], finalizers: dict[str, int], failures: list[str]) -> list[dict]:
    """The namespace status conditions upstream reports while it waits (pure)."""
    content = ", ".join(f"{r} has {n} resource instances" for r, n in sorted(counts.items()))
    fins = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
    problems = {
        "NamespaceDeletionContentFailure": "; ".join(failures) if failures else "",
        "NamespaceContentRemaining": f"Some resources are remaining: {content}" if counts else "",
        "NamespaceFinalizersRemaining": f"Some content in the namespace has finalizers remaining: {fins}"
        if finalizers else "",
    }
    conds = []
    for ctype, (bad, good) in CONDITION_REASONS.items():
        msg = problems.get(ctype, "")
        conds.append({"type": ctype, "status": "True" if msg else "False", "lastTransitionTime": timestamps.now(),
                      "reason": bad if msg else good, "message": msg})
    return conds


class NamespaceController(Controller):
    name = "namespace"
    workers = 10   # upstream's --concurrent-namespace-syncs

    def setup(self) -> None:
        self.namespaces = self.ctx.informers.informer(NAMESPACES)
        self.namespaces.add_handler(self._maybe, lambda old, new: self._maybe(new))

    def _maybe(self, ns: dict) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            self.enqueue(ns)

    async def sync(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or []):
            return
        resources = [ar for ar in await discover(self.client)
                     if ar.resource.namespaced and {"list", "delete"} <= ar.verbs]
        # delete everything first (in parallel), then see what is left
        failures = [f for f in await asyncio.gather(*(self._delete_all(ar, key) for ar in resources)) if f]
        counts: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        # listed side by side too: one namespace's sync is some 120 requests, and a backlog of
        # namespaces (every test's, on a shared server) waited behind their round trips one by one
        listed = await asyncio.gather(*(self.client.list(ar.resource, key) for ar in resources),
                                      return_exceptions=True)
        for ar, got in zip(resources, listed):
            if isinstance(got, ApiError):
                if got.code not in (404, 405):
                    failures.append(f"list {ar.resource.plural}: {got.message}")
                continue
            if isinstance(got, BaseException):
                raise got
            items = got.get("items") or []
            if items:
                name = f"{ar.resource.plural}.{ar.resource.group}" if ar.resource.group else ar.resource.plural
                counts[name] = len(items)
                for it in items:
                    for f in it["metadata"].get("finalizers") or []:
                        finalizers[f] = finalizers.get(f, 0) + 1
        await self._set_conditions(ns, remaining_conditions(counts, finalizers, failures))
        if counts or failures:
            self.queue.add_after(key, self.ctx.options.namespace_sync_period)
            return
        ns = await self.client.get(NAMESPACES, key)
        ns.setdefault("spec", {})["finalizers"] = [f for f in ns["spec"].get("finalizers") or [] if f != FINALIZER]
        try:
            await self.client.update(NAMESPACES, ns, subresource="finalize")
        except ApiError as e:
            if not e.not_found:
                raise

    async def _delete_all(self, ar, namespace: str) -> str | None:
        try:
            if "deletecollection" in ar.verbs:
                await self.client.delete_collection(ar.resource, namespace, propagation_policy="Background")
            else:
                items = (await self.client.list(ar.resource, namespace)).get("items") or []
                for it in items:
                    try:
                        await self.client.delete(ar.resource, it["metadata"]["name"], namespace,
                                                 propagation_policy="Background")
                    except ApiError as e:
                        if not e.not_found:
                            raise
        except ApiError as e:
            if e.code in (404, 405):
                return None
            return f"delete {ar.resource.plural}: {e.message}"
        return None

    async def _set_conditions(self, ns: dict, conditions: list[dict]) -> None:
        current = {c.get("type"): c for c in (ns.get("status") or {}).get("conditions") or []}
        changed = False
        for c in conditions:
            old = current.get(c["type"])
            if old and old.get("status") == c["status"] and old.get("message", "") == c["message"]:
                continue
            current[c["type"]] = c
            changed = True
        if not changed:
            return
        try:
            fresh = await self.client.get(NAMESPACES, ns["metadata"]["name"])
            fresh.setdefault("status", {})["conditions"] = list(current.values())
            await self.client.update_status(NAMESPACES, fresh)
        except ApiError as e:
            log.debug("namespace %s conditions: %s", ns["metadata"]["name"], e)
