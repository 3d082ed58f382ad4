"""The cluster IP repair loop (registry/allocators/repair.py) of one API server:
one pass at start, then one every `interval_s`, as upstream's repair controller.
Several API servers may each run it: every change it makes is conditional."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from apiserver.registry.allocators.repair import repair

log = logging.getLogger(__name__)

INTERVAL_S = 180.0


async def repair_once(registries) -> None:
    services = registries.for_plural("", "services")
    result = await repair(registries.storage, services.strategy.allocator.ip_range, services.prefix)
    if result.restored or result.freed or result.conflicts:
        log.info("cluster IP repair: %d IPAddresses restored, %d freed, %d conflicts",
                 result.restored, result.freed, result.conflicts)


class IPRepairLoop:
    def __init__(self, registries, interval_s: float = INTERVAL_S):
        self.registries = registries
        self.interval_s = interval_s
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await repair_once(self.registries)
            except Exception as e:  # storage away for a while: the next pass tries again
                log.warning("cluster IP repair failed: %s", e)
