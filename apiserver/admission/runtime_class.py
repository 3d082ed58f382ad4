"""RuntimeClass: a pod naming a runtimeClassName gets that class's pod
overhead and scheduling constraints (node selector merged, tolerations added);
a class that does not exist, an overhead the pod set differently, or a node
selector that conflicts is refused, as upstream's plugin does."""
from __future__ import annotations

from apiserver.registry.attributes import Attributes

from .plugin import Plugin, forbidden, is_pod

GROUP = "node.k8s.io"


def _same_toleration(a: dict, b: dict) -> bool:
    keys = ("key", "operator", "value", "effect", "tolerationSeconds")
    return all(a.get(k) == b.get(k) for k in keys)


class RuntimeClass(Plugin):
    name = "RuntimeClass"
    mutating = True
    validating = True

    async def _class_of(self, attrs: Attributes) -> tuple[dict, dict | None]:
        """The pod's spec and its RuntimeClass; no class for anything but a pod's CREATE
        naming one."""
        if attrs.operation != "CREATE" or not is_pod(attrs):
            return {}, None
        spec = attrs.object.get("spec") if isinstance(attrs.object, dict) else None
        if not isinstance(spec, dict) or not spec.get("runtimeClassName"):
            return {}, None
        name = spec["runtimeClassName"]
        rc = await self.get(GROUP, "runtimeclasses", "", name)
        if rc is None:
            raise forbidden(attrs, f'pod rejected: RuntimeClass "{name}" not found')
        return spec, rc

    async def admit(self, attrs: Attributes) -> None:
        spec, rc = await self._class_of(attrs)
        if rc is None:
            return
        overhead = (rc.get("overhead") or {}).get("podFixed")
        if overhead:
            if spec.get("overhead") is not None and spec["overhead"] != overhead:
                raise forbidden(attrs, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
            spec["overhead"] = dict(overhead)
        scheduling = rc.get("scheduling") or {}
        selector = dict(spec.get("nodeSelector") or {})
        for k, v in (scheduling.get("nodeSelector") or {}).items():
            if k in selector and selector[k] != v:
                raise forbidden(attrs, f"conflict: runtimeClass.scheduling.nodeSelector[{k}] = {v}; "
                                       f"pod.spec.nodeSelector[{k}] = {selector[k]}")
            selector[k] = v
        if selector:
            spec["nodeSelector"] = selector
        tolerations = list(spec.get("tolerations") or [])
        for t in scheduling.get("tolerations") or []:
            if not any(isinstance(have, dict) and _same_toleration(have, t) for have in tolerations):
                tolerations.append(dict(t))
        if tolerations:
            spec["tolerations"] = tolerations

    async def validate(self, attrs: Attributes) -> None:
        spec, rc = await self._class_of(attrs)
        if rc is None:
            return
        overhead = (rc.get("overhead") or {}).get("podFixed")
        if spec.get("overhead") is not None and overhead is None:
            raise forbidden(attrs, "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead")
        if overhead and spec.get("overhead") != overhead:
            raise forbidden(attrs, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
