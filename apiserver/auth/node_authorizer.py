"""The Node authorizer (--authorization-mode=Node), as upstream's: requests from a
node (`system:node:<name>` in group system:nodes) are allowed what every node
needs (node_rules.NODE_RULES), and Secrets, ConfigMaps, PersistentVolumeClaims,
PersistentVolumes, VolumeAttachments and service-account tokens only when a pod
bound to that node refers to them (machinery/podrefs.py). Everything else, and every
other user, is "no opinion": the next mode (RBAC) decides.

Upstream keeps the pod → object graph in memory from informers; here the node's
pods in the object's namespace are read from the watch cache when asked (one
list per request for those kinds, which node agents make when pods start).
"""
from __future__ import annotations

from apiserver.machinery.podrefs import pod_refs, pv_secret_refs
from apiserver.machinery.user import UserInfo, node_name
from apiserver.registry.options import ListOptions

from .node_rules import NODE_RULES
from .rbac_rules import rule_allows
_GRAPH = {("", "secrets"), ("", "configmaps"), ("", "persistentvolumeclaims"), ("", "persistentvolumes"),
          ("", "serviceaccounts"), ("storage.k8s.io", "volumeattachments")}


class NodeAuthorizer:
    def __init__(self, registries):
        self.registries = registries

    async def decide(self, user: UserInfo, attrs) -> tuple[bool | None, str]:
        node = node_name(user)
        if node is None or not attrs.is_resource_request:
            return None, ""
        key = (attrs.group, attrs.resource)
        if key in _GRAPH and not (key == ("", "serviceaccounts") and attrs.subresource != "token"):
            return await self._related(node, attrs)
        if any(rule_allows(r, attrs) for r in NODE_RULES):
            return True, ""
        return None, ""

    # ---- the graph -----------------------------------------------------------------
    async def _related(self, node: str, attrs) -> tuple[bool | None, str]:
        r, verb = attrs.resource, attrs.verb
        if r == "serviceaccounts" and (verb != "create" or not attrs.name):
            return None, "can only create tokens for individual service accounts"   # upstream's words
        allowed_verbs = {"create"} if r == "serviceaccounts" else (
            {"get", "list", "watch"} if r in ("secrets", "configmaps") else {"get"})
        if verb not in allowed_verbs:
            return None, f"can only {'/'.join(sorted(allowed_verbs))} individual resources of this type"
        if not attrs.name:
            return None, "can only get individual resources of this type"
        if await self._refers(node, r, attrs.namespace, attrs.name):
            return True, ""
        return None, f"no relationship found between node '{node}' and this object"

    async def _pods(self, node: str, namespace: str) -> list[dict]:
        store = self.registries.for_plural("", "pods")
        page = await store.list(namespace, ListOptions(field_selector=f"spec.nodeName={node}"))
        return [so.obj for so in page.items]

    async def _refers(self, node: str, resource: str, namespace: str, name: str) -> bool:
        if resource == "volumeattachments":
            va = await self._get("storage.k8s.io", "volumeattachments", "", name)
            return va is not None and (va.get("spec") or {}).get("nodeName") == node
        if resource == "persistentvolumes":
            return await self._pv_used(node, name)
        pods = await self._pods(node, namespace)
        if any(name in pod_refs(p)[resource] for p in pods):
            return True
        if resource == "secrets":    # a Secret a PersistentVolume of the node's pods names
            for pv in await self._node_pvs(node):
                if (namespace, name) in pv_secret_refs(pv):
                    return True
        return False

    async def _get(self, group: str, plural: str, namespace: str, name: str) -> dict | None:
        store = self.registries.for_plural(group, plural)
        so = await store.get_or_none(namespace, name) if store is not None else None
        return so.obj if so is not None else None

    async def _node_pvs(self, node: str) -> list[dict]:
        pvs = []
        for pod in await self._pods(node, ""):
            ns = (pod.get("metadata") or {}).get("namespace", "")
            for claim in pod_refs(pod)["persistentvolumeclaims"]:
                pvc = await self._get("", "persistentvolumeclaims", ns, claim)
                volume = ((pvc or {}).get("spec") or {}).get("volumeName")
                pv = await self._get("", "persistentvolumes", "", volume) if volume else None
                if pv is not None:
                    pvs.append(pv)
        return pvs

    async def _pv_used(self, node: str, name: str) -> bool:
        return any((pv.get("metadata") or {}).get("name") == name for pv in await self._node_pvs(node))
