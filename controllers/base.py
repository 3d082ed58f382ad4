"""The shape of a controller: informers feed keys into a work queue; workers
take keys and reconcile (`sync`). A failed sync is retried with back-off; a
successful one resets the key's back-off."""
from __future__ import annotations

import asyncio
import logging

from kubeclient import ApiError, ShutDown, WorkQueue, object_key

from .context import Context

log = logging.getLogger(__name__)


class Controller:
    name = "controller"
    workers = 2

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.client = ctx.client
        self.queue = WorkQueue(name=self.name)
        self.syncs = 0  # a metric
        self.setup()

    def setup(self) -> None:
        """Ask for informers and add handlers (called before informers start)."""

    async def sync(self, key: str) -> None:
        raise NotImplementedError

    def enqueue(self, obj: dict) -> None:
        self.queue.add(object_key(obj))

    def enqueue_handlers(self):
        """(on_add, on_update, on_delete) that queue the object's own key."""
        return (self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)

    async def background(self) -> None:
        """Periodic work besides the queue (node monitor, pod GC...)."""

    async def run(self) -> None:
        await self.ctx.informers.wait_for_sync()
        tasks = [asyncio.ensure_future(self._worker()) for _ in range(self.workers)]
        tasks.append(asyncio.ensure_future(self.background()))
        try:
            await asyncio.gather(*tasks)
        finally:
            self.queue.shutdown()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.sync(key)
                self.queue.forget(key)
            except asyncio.CancelledError:
                raise
            except ApiError as e:
                level = logging.DEBUG if e.code in (404, 409) else logging.WARNING
                log.log(level, "%s: sync %s failed: %s", self.name, key, e)
                self.queue.add_rate_limited(key)
            except Exception:
                log.exception("%s: sync %s crashed", self.name, key)
                self.queue.add_rate_limited(key)
            finally:
                self.syncs += 1
                self.queue.done(key)
