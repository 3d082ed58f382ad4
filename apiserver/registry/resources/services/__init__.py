"""Services: DNS-1035 names, defaults, rules, the service table, and cluster IPs
and node ports from the allocators (apiserver.registry.allocators): allocated
before the object is written, reconciled on update, released once it is gone.
The allocation state lives in the store, so several API servers never hand out
the same address."""
from __future__ import annotations

import copy
from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.allocators import ServiceAllocator, drop_type_dependent_fields
from apiserver.registry.settings import RegistrySettings
from apiserver.registry.strategy import Strategy

from . import printer
from .defaults import default_service
from .validation import validate_service, validate_service_update


class ServiceStrategy(Strategy):
    serves = (("", "services"),)

    def __init__(self, resource, settings: RegistrySettings = RegistrySettings()):
        super().__init__(resource, settings)
        self.allocator = ServiceAllocator.from_flags(settings.service_cluster_ip_range,
                                                     settings.service_node_port_range)

    def defaults(self, obj: dict) -> None:
        default_service(obj)

    def name_errors(self, name: str) -> list[str]:
        return names.is_dns1035_label(name)

    def validate(self, obj: dict) -> list[Cause]:
        return validate_service(obj)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return validate_service_update(new, old)

    def check_update(self, new: dict, old: dict) -> list[Cause]:
        # Judge the service as it will be stored: unchanged type-dependent
        # fields go with a type change (the allocators drop them for real).
        if isinstance(new, dict):
            new = copy.deepcopy(new)
            drop_type_dependent_fields(new, old if isinstance(old, dict) else {})
        return super().check_update(new, old)

    async def before_create(self, store, obj: dict, dry_run: bool) -> None:
        await self.allocator.allocate_for_create(store.storage, obj, dry_run=dry_run)

    async def before_update(self, store, new: dict, old: dict, dry_run: bool) -> None:
        await self.allocator.reconcile_on_update(store.storage, old, new, dry_run=dry_run)

    async def after_delete(self, store, obj: dict) -> None:
        await self.allocator.release(store.storage, obj)

    def columns(self) -> list[dict]:
        return printer.columns()

    def cells(self, obj: dict, now: datetime) -> list:
        return printer.row(obj, now)
