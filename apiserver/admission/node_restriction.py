"""NodeRestriction, as upstream's: a node (`system:node:<name>`, group system:nodes)
may change only what is its own.

  pods          create only mirror pods (annotation kubernetes.io/config.mirror)
                bound to itself, naming no Secrets, ConfigMaps, claims or service
                account; update the status of, and delete, only pods bound to it
  nodes         create, change and delete only its own Node; never set or change
                labels under node-restriction.kubernetes.io/, nor its taints on update
  leases        only its own in kube-node-lease
  csinodes      only its own
  serviceaccounts/token   only bound (by name and uid) to a pod bound to it
Everything else a node is allowed by the authorizers passes unchanged.
"""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.machinery.podrefs import pod_refs
from apiserver.machinery.user import node_name
from apiserver.registry.attributes import Attributes

from .plugin import Plugin, forbidden, object_name

MIRROR = "kubernetes.io/config.mirror"
RESTRICTED_LABEL_PREFIX = "node-restriction.kubernetes.io/"


def _meta(obj: dict | None) -> dict:
    return (obj or {}).get("metadata") or {}


def _restricted_labels(labels: dict) -> dict:
    return {k: v for k, v in (labels or {}).items()
            if k.split("/", 1)[0].endswith(RESTRICTED_LABEL_PREFIX.rstrip("/")) and "/" in k}


class NodeRestriction(Plugin):
    name = "NodeRestriction"
    validating = True

    async def validate(self, attrs: Attributes) -> None:
        node = node_name(attrs.user)
        if node is None:
            return
        group, plural = attrs.resource.group, attrs.resource.plural
        if group == "" and plural == "pods":
            await self._pod(node, attrs)
        elif group == "" and plural == "nodes":
            self._node(node, attrs)
        elif group == "coordination.k8s.io" and plural == "leases":
            if attrs.namespace != "kube-node-lease" or object_name(attrs) != node:
                raise forbidden(attrs, f"node {node!r} can only access its own lease in kube-node-lease")
        elif group == "storage.k8s.io" and plural == "csinodes":
            if object_name(attrs) != node:
                raise forbidden(attrs, f"node {node!r} cannot modify CSINode {object_name(attrs)!r}")
        elif group == "" and plural == "serviceaccounts" and attrs.subresource == "token":
            await self._token(node, attrs)

    async def _pod(self, node: str, attrs: Attributes) -> None:
        op, sub = attrs.operation, attrs.subresource
        if op == "CREATE" and sub == "":
            pod = attrs.object or {}
            spec = pod.get("spec") or {}
            if MIRROR not in (_meta(pod).get("annotations") or {}):
                raise forbidden(attrs, f"pod does not have \"{MIRROR}\" annotation, node \"{node}\" can only "
                                       "create mirror pods")
            if spec.get("nodeName") != node:
                raise forbidden(attrs, f"node \"{node}\" can only create pods with spec.nodeName set to itself")
            refs = pod_refs(pod)
            if refs["secrets"] or refs["configmaps"] or refs["persistentvolumeclaims"]:
                raise forbidden(attrs, f"node \"{node}\" can not create pods that reference secrets, "
                                       "configmaps, or persistentvolumeclaims")
            if spec.get("serviceAccountName"):
                raise forbidden(attrs, f"node \"{node}\" can not create pods that reference a service account")
            return
        if op == "CREATE" and sub == "eviction":
            current = await self.get("", "pods", attrs.namespace, attrs.name)
            if current is not None and (current.get("spec") or {}).get("nodeName") != node:
                raise forbidden(attrs, f"node \"{node}\" can only evict pods with spec.nodeName set to itself")
            return
        bound = ((attrs.old_object or {}).get("spec") or {}).get("nodeName")
        if op == "UPDATE" and sub == "status":
            if bound != node:
                raise forbidden(attrs, f"node \"{node}\" can only update pod status for pods with "
                                       "spec.nodeName set to itself")
            return
        if op == "DELETE":
            if bound != node:
                raise forbidden(attrs, f"node \"{node}\" can only delete pods with spec.nodeName set to itself")
            return
        if op == "UPDATE":
            raise forbidden(attrs, f"node \"{node}\" can only update pod status")

    def _node(self, node: str, attrs: Attributes) -> None:
        target = object_name(attrs)
        if target != node:
            raise forbidden(attrs, f"node \"{node}\" is not allowed to modify node \"{target}\"")
        if attrs.operation == "DELETE":
            return
        new_labels = _restricted_labels(_meta(attrs.object).get("labels"))
        old_labels = _restricted_labels(_meta(attrs.old_object).get("labels"))
        if new_labels != old_labels:
            changed = sorted(set(new_labels.items()) ^ set(old_labels.items()))
            raise forbidden(attrs, f"is not allowed to modify labels: {', '.join(k for k, _ in changed)}")
        if attrs.operation == "UPDATE" and attrs.subresource == "":
            new_taints = ((attrs.object or {}).get("spec") or {}).get("taints") or []
            old_taints = ((attrs.old_object or {}).get("spec") or {}).get("taints") or []
            if new_taints != old_taints:
                raise forbidden(attrs, f"node \"{node}\" is not allowed to modify taints")

    async def _token(self, node: str, attrs: Attributes) -> None:
        """upstream's wording: the Pod binding (with its uid) is required, and the Node claim the
        server adds from the pod is then the node's own: no token bound to another node."""
        ref = ((attrs.object or {}).get("spec") or {}).get("boundObjectRef")
        if not isinstance(ref, dict) or ref.get("apiVersion") != "v1" or ref.get("kind") != "Pod" \
                or not ref.get("name"):
            raise forbidden(attrs, "node requested token not bound to a pod")
        if not ref.get("uid"):
            raise forbidden(attrs, "node requested token with a pod binding without a uid")
        pod = await self.get("", "pods", attrs.namespace, ref["name"])
        if pod is None:
            raise errors.not_found("", "pods", ref["name"])
        if ref["uid"] != _meta(pod).get("uid"):
            raise forbidden(attrs, f"the UID in the bound object reference ({ref['uid']}) does not match the UID "
                                   "in record. The object might have been deleted and then recreated")
        if (pod.get("spec") or {}).get("nodeName") != node:
            raise forbidden(attrs, "node requested token bound to a pod scheduled on a different node")
