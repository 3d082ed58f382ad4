"""The /scale subresource (autoscaling/v1 Scale) of the kinds that have one:
ReplicationControllers (a map selector) and Deployments, ReplicaSets and
StatefulSets (a metav1.LabelSelector). Only how the selector prints differs."""
from __future__ import annotations

from typing import Callable

from apiserver.machinery import errors
from apiserver.registry.context import WriteContext

from .workload_rules import selector_string


def label_selector_text(selector: dict | None) -> str:
    text = selector_string(selector)
    return "" if text == "<none>" else text


def map_selector_text(selector: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))


class ScaleSubresource:
    def __init__(self, group: str, plural: str, selector_text: Callable[[dict | None], str]):
        self.group = group
        self.plural = plural
        self.selector_text = selector_text

    def scale_of(self, obj: dict) -> dict:
        meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
        return {
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": spec.get("replicas", 0)},
            "status": {"replicas": status.get("replicas", 0), "selector": self.selector_text(spec.get("selector"))},
        }

    async def get(self, store, namespace: str, name: str) -> dict:
        return self.scale_of((await store.get(namespace, name)).obj)

    def _replicas(self, body: dict, name: str) -> int:
        """The replicas a Scale asks for, or the error that refuses it."""
        if body.get("kind") not in (None, "Scale"):
            raise errors.bad_request(f'expected Scale, got {body.get("kind")}')
        replicas = (body.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid("autoscaling", "Scale", name, [errors.Cause(
                "FieldValueInvalid", f"Invalid value: {replicas}: must be greater than or equal to 0",
                "spec.replicas")])
        return replicas

    async def update(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> dict:
        self._replicas(body, name)   # a bad body is refused before the object is read
        return await self.patch(store, namespace, name, lambda _scale: body, ctx)

    async def patch(self, store, namespace: str, name: str, patched: Callable[[dict], dict],
                    ctx: WriteContext) -> dict:
        """`patched(scale)` is the Scale wanted, from the stored object's; it runs inside the
        store's read-modify-write loop, so a write between read and write is retried, not a 409
        (unless the Scale it returns names another resourceVersion)."""
        async def transform(obj: dict) -> dict:
            body = patched(self.scale_of(obj))
            replicas = self._replicas(body, name)
            rv = (body.get("metadata") or {}).get("resourceVersion")
            if rv and obj["metadata"].get("resourceVersion") != rv:
                raise errors.stale_update(self.group, self.plural, name)
            obj.setdefault("spec", {})["replicas"] = replicas
            return obj

        stored = await store.guaranteed_update(namespace, name, transform, ctx, subresource="scale")
        return self.scale_of(stored.obj)


def label_selector_scale(plural: str) -> ScaleSubresource:
    """/scale of an apps/v1 kind."""
    return ScaleSubresource("apps", plural, label_selector_text)
