"""POST pods/<name>/binding (and POST bindings): the scheduler's way to set spec.nodeName."""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.registry.context import WriteContext
from apiserver.registry.objects import now_rfc3339


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
                          "lastTransitionTime": now_rfc3339()})
            return pod

        # spec.nodeName and the PodScheduled condition are written past the
        # main resource's status reset: binding writes as the "binding" subresource.
        await store.guaranteed_update(namespace, name, transform, ctx, subresource="binding",
                                      operation="CREATE")
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
