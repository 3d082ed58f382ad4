"""The /scale subresource (autoscaling/v1 Scale) of the apps kinds whose
selector is a metav1.LabelSelector: Deployments, ReplicaSets, StatefulSets."""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.registry.context import WriteContext

from .workload_rules import selector_string


def scale_of(obj: dict) -> dict:
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    selector = selector_string(spec.get("selector"))
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {"replicas": status.get("replicas", 0), "selector": "" if selector == "<none>" else selector},
    }


class LabelSelectorScale:
    def __init__(self, plural: str):
        self.plural = plural

    async def get(self, store, namespace: str, name: str) -> dict:
        return scale_of((await store.get(namespace, name)).obj)

    async def update(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> dict:
        if body.get("kind") not in (None, "Scale"):
            raise errors.bad_request(f'expected Scale, got {body.get("kind")}')
        replicas = (body.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid("autoscaling", "Scale", name, [errors.Cause(
                "FieldValueInvalid", f"Invalid value: {replicas}: must be greater than or equal to 0",
                "spec.replicas")])
        rv = (body.get("metadata") or {}).get("resourceVersion")

        async def transform(obj: dict) -> dict:
            if rv and obj["metadata"].get("resourceVersion") != rv:
                raise errors.stale_update("apps", self.plural, name)
            obj.setdefault("spec", {})["replicas"] = replicas
            return obj

        stored = await store.guaranteed_update(namespace, name, transform, ctx, subresource="scale")
        return scale_of(stored.obj)
