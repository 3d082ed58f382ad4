"""NamespaceLifecycle: no new content in a namespace that is missing or being
deleted, and the system namespaces can never be deleted."""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.machinery.errors import Cause
from apiserver.registry.attributes import Attributes

from .plugin import Plugin, forbidden

IMMORTAL = ("default", "kube-system", "kube-public", "kube-node-lease")
# Reviews are answered, never stored: they may name any namespace.
_EXEMPT = {("authorization.k8s.io", "localsubjectaccessreviews"), ("authentication.k8s.io", "tokenreviews")}


class NamespaceLifecycle(Plugin):
    name = "NamespaceLifecycle"
    mutating = True

    async def admit(self, attrs: Attributes) -> None:
        r = attrs.resource
        if r.group == "" and r.plural == "namespaces":
            if attrs.operation == "DELETE" and attrs.name in IMMORTAL:
                raise forbidden(attrs, "this namespace may not be deleted")
            return
        if not r.namespaced or not attrs.namespace or (r.group, r.plural) in _EXEMPT:
            return
        if attrs.operation == "DELETE":
            return  # cleaning up is always allowed
        ns = await self.get("", "namespaces", "", attrs.namespace)
        if ns is None:
            raise errors.not_found("", "namespaces", attrs.namespace)
        if attrs.operation != "CREATE":
            return
        terminating = (ns.get("status") or {}).get("phase") == "Terminating" or \
            (ns.get("metadata") or {}).get("deletionTimestamp")
        if terminating:
            detail = f"unable to create new content in namespace {attrs.namespace} because it is being terminated"
            raise forbidden(attrs, detail, [Cause("NamespaceTerminating", detail, "metadata.namespace")])
