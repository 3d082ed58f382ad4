"""ReplicationControllers: status subresource and /scale (autoscaling/v1 Scale)."""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.registry.context import WriteContext
from apiserver.registry.strategy import Strategy


class ReplicationControllerStrategy(Strategy):
    def prepare_for_create(self, obj: dict) -> None:
        # upstream starts every RC with an empty status, which serializes as
        # {replicas: 0} (the field is not omitempty): clients read status.replicas at once
        super().prepare_for_create(obj)
        obj["status"] = {"replicas": 0}

    def subresource_handlers(self) -> dict:
        return {"scale": ScaleHandler()}


def _scale_of(rc: dict) -> dict:
    meta = rc["metadata"]
    selector = (rc.get("spec") or {}).get("selector") or {}
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": (rc.get("spec") or {}).get("replicas", 0)},
        "status": {"replicas": (rc.get("status") or {}).get("replicas", 0),
                   "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items()))},
    }


class ScaleHandler:
    async def get(self, store, namespace: str, name: str) -> dict:
        return _scale_of((await store.get(namespace, name)).obj)

    async def update(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> dict:
        if body.get("kind") not in (None, "Scale"):
            raise errors.bad_request(f'expected Scale, got {body.get("kind")}')
        replicas = (body.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid("autoscaling", "Scale", name, [errors.Cause(
                "FieldValueInvalid", f"Invalid value: {replicas}: must be greater than or equal to 0",
                "spec.replicas")])
        rv = (body.get("metadata") or {}).get("resourceVersion")

        async def transform(rc: dict) -> dict:
            if rv and rc["metadata"].get("resourceVersion") != rv:
                raise errors.stale_update("", "replicationcontrollers", name)
            rc.setdefault("spec", {})["replicas"] = replicas
            return rc

        stored = await store.guaranteed_update(namespace, name, transform, ctx, subresource="scale")
        return _scale_of(stored.obj)
