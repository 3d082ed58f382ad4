"""Services: cluster IPs and node ports come from the allocators
(apiserver.registry.allocators, the kinds engineer's): allocate before the
object is written, reconcile on update, release once it is gone."""
from __future__ import annotations

from apiserver.registry.strategy import Strategy

try:
    from apiserver.registry import allocators as _alloc
except ImportError:  # STANDIN until the allocators land
    _alloc = None


class ServiceStrategy(Strategy):
    async def before_create(self, store, obj: dict, dry_run: bool) -> None:
        if _alloc is not None and hasattr(_alloc, "allocate_for_create"):
            await _alloc.allocate_for_create(store.store, obj, dry_run=dry_run)

    async def before_update(self, store, new: dict, old: dict, dry_run: bool) -> None:
        if _alloc is not None and hasattr(_alloc, "reconcile_on_update"):
            await _alloc.reconcile_on_update(store.store, old, new, dry_run=dry_run)

    async def after_delete(self, store, obj: dict) -> None:
        if _alloc is not None and hasattr(_alloc, "release"):
            await _alloc.release(store.store, obj)
