"""Services: cluster IPs and node ports come from the allocators
(apiserver.registry.allocators, the kinds engineer's): allocate before the
object is written, reconcile on update, release once it is gone. The
allocation state lives in the store, so several API servers never hand out
the same address."""
from __future__ import annotations

from apiserver.registry import allocators
from apiserver.registry.strategy import Strategy


class ServiceStrategy(Strategy):
    async def before_create(self, store, obj: dict, dry_run: bool) -> None:
        await allocators.allocate_for_create(store.store, obj, dry_run=dry_run)

    async def before_update(self, store, new: dict, old: dict, dry_run: bool) -> None:
        await allocators.reconcile_on_update(store.store, old, new, dry_run=dry_run)

    async def after_delete(self, store, obj: dict) -> None:
        await allocators.release(store.store, obj)
