"""Pods: status starts Pending, graceful deletion on a node, /binding."""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.registry.context import WriteContext
from apiserver.registry.strategy import Strategy

TERMINAL = ("Succeeded", "Failed")
DEFAULT_GRACE = 30


class PodStrategy(Strategy):
    selectable_fields = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                         "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                         "status.nominatedNodeName")

    def prepare_for_create(self, obj: dict) -> None:
        obj["status"] = {"phase": "Pending"}

    def grace_period(self, obj: dict, requested: int | None) -> int:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in TERMINAL:
            return 0  # nothing runs it: nobody would finish a graceful delete
        if requested is not None:
            return max(requested, 0)
        grace = spec.get("terminationGracePeriodSeconds")
        return DEFAULT_GRACE if grace is None else max(int(grace), 0)

    def subresource_handlers(self) -> dict:
        return {"binding": BindingHandler(), "eviction": EvictionHandler()}


class BindingHandler:
    """POST pods/<name>/binding (and POST bindings): set spec.nodeName once."""

    async def create(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> tuple[int, dict]:
        target = (body.get("target") or {})
        node = target.get("name", "")
        if not node:
            raise errors.invalid("", "Binding", name, [errors.Cause("FieldValueRequired", "Required value",
                                                                  "target.name")])
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on "
                                     f"the URL ({name})")
        uid_pre = meta.get("uid")

        async def transform(pod: dict) -> dict:
            pm = pod["metadata"]
            if uid_pre and pm.get("uid") != uid_pre:
                raise errors.conflict("", "pods", name, f"Precondition failed: UID in precondition: {uid_pre}, "
                                      f"UID in object meta: {pm.get('uid')}")
            if pm.get("deletionTimestamp"):
                raise errors.conflict("", "pods/binding", name, "pod is being deleted, cannot be assigned to a host")
            spec = pod.setdefault("spec", {})
            if spec.get("nodeName"):
                raise errors.conflict("", "pods/binding", name,
                                      f"pod {name} is already assigned to node \"{spec['nodeName']}\"")
            spec["nodeName"] = node
            for k, v in (meta.get("annotations") or {}).items():
                pm.setdefault("annotations", {})[k] = v
            conds = pod.setdefault("status", {}).setdefault("conditions", [])
            conds[:] = [c for c in conds if c.get("type") != "PodScheduled"]
            conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": _now()})
            return pod

        # spec.nodeName and the PodScheduled condition are written past the
        # main resource's status reset: binding writes as the "binding" subresource.
        await store.guaranteed_update(namespace, name, transform, ctx, subresource="binding",
                                      operation="CREATE")
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def _now() -> str:
    from apiserver.registry.objects import now_rfc3339
    return now_rfc3339()


class EvictionHandler:
    """POST pods/<name>/eviction (policy/v1 Eviction): a delete with the
    eviction's deleteOptions. No PodDisruptionBudgets are served, so nothing
    can refuse it; upstream answers 201 with a Success Status."""

    async def create(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> tuple[int, dict]:
        from apiserver.registry.options import DeleteOptions
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(f"name in URL does not match name in Eviction object")
        opts = DeleteOptions.from_request({}, body.get("deleteOptions") or None)
        ctx.dry_run = ctx.dry_run or opts.dry_run
        await store.delete(namespace, name, opts, ctx)
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
