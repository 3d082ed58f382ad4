"""POST pods/<name>/eviction (policy/v1 Eviction)."""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.registry.context import WriteContext
from apiserver.registry.options import DeleteOptions

from .disruption_budgets import take_disruption


class EvictionHandler:
    """POST pods/<name>/eviction (policy/v1 Eviction): a delete with the
    eviction's deleteOptions, once the pod's PodDisruptionBudget allows it
    (disruption_budgets.py); upstream answers 201 with a Success Status."""

    registries = None  # set by bind_registries: the budgets are another resource's store

    def bind_registries(self, registries) -> None:
        self.registries = registries

    async def create(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> tuple[int, dict]:
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(f"name in URL does not match name in Eviction object")
        opts = DeleteOptions.from_request({}, body.get("deleteOptions") or None)
        ctx.dry_run = ctx.dry_run or opts.dry_run
        await take_disruption(self.registries, namespace, (await store.get(namespace, name)).obj, ctx)
        await store.delete(namespace, name, opts, ctx)
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
