"""Pod workers for every pod bound to this node, and the sweep of orphans.

Watches only `spec.nodeName=<node>` through an informer; one PodWorker task per
pod uid. Podman events wake the worker whose pod a container belongs to. Runtime
pods whose Kubernetes pod no longer exists (deleted while the agent was down)
are removed by the periodic sweep.
"""

from __future__ import annotations

import asyncio
import logging

from kubeclient.informer import Informer
from kubeclient.resources import PODS

from ..runtime import labels as L
from ..runtime.podman import container_events
from . import volumes
from .context import AgentContext
from .worker import PodWorker

log = logging.getLogger(__name__)

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

SWEEP_PERIOD = 30.0


class PodManager:
    def __init__(self, ctx: AgentContext, sweep_period: float = SWEEP_PERIOD):
        self.sweep_period = sweep_period
        self.ctx = ctx
        self.workers: dict[str, PodWorker] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.informer = Informer(ctx.client, PODS, field_selector=f"spec.nodeName={ctx.node_name}")
        self.informer.add_handler(self._on_add, self._on_update, self._on_delete)

    def _on_add(self, pod: dict) -> None:
        uid = pod["metadata"].get("uid")
        if not uid or MIRROR_ANNOTATION in (pod["metadata"].get("annotations") or {}):
            return  # a mirror pod only shows a static pod, which runs outside Podman
        w = self.workers.get(uid)
        if w is not None:
            w.update(pod)
            return
        w = PodWorker(self.ctx, pod)
        self.workers[uid] = w
        task = asyncio.ensure_future(w.run())
        self.tasks[uid] = task
        task.add_done_callback(lambda _t, uid=uid: self._done(uid))

    def _on_update(self, _old: dict, new: dict) -> None:
        self._on_add(new)

    def _on_delete(self, pod: dict) -> None:
        w = self.workers.get(pod["metadata"].get("uid", ""))
        if w is not None:
            w.api_deleted()

    def _done(self, uid: str) -> None:
        self.workers.pop(uid, None)
        self.tasks.pop(uid, None)

    def worker_for(self, namespace: str, name: str) -> PodWorker | None:
        for w in self.workers.values():
            m = w.pod["metadata"]
            if m["namespace"] == namespace and m["name"] == name:
                return w
        return None

    async def _events(self) -> None:
        while True:
            try:
                async for status, attrs in container_events(self.ctx.podman):
                    uid = attrs.get(L.POD_UID)
                    # Not "start": containers start only when their worker starts them, and it
                    # already looks at what it started; waking on it cost every pod start a sync.
                    if uid and status in ("died", "oom", "exited") and uid in self.workers:
                        self.workers[uid].wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.debug("podman events stream ended: %r", e)
            await asyncio.sleep(1)

    async def sweep(self) -> None:
        """Remove runtime pods of this node whose Kubernetes pod is gone."""
        known = {p["metadata"].get("uid") for p in self.informer.cache.values()} | set(self.workers)
        for sandbox in await self.ctx.podman.pod_list({L.NODE_NAME: self.ctx.node_name}):
            uid = (sandbox.get("Labels") or {}).get(L.POD_UID)
            if uid and uid not in known:
                log.info("removing orphaned runtime pod %s", sandbox.get("Name"))
                for c in await self.ctx.podman.container_list({L.POD_UID: uid}):
                    await self.ctx.podman.container_stop(c["Id"], 2)
                await self.ctx.podman.pod_remove(sandbox["Id"])
                volumes.cleanup(self.ctx.root_dir, uid)

    async def _sweeper(self) -> None:
        await self.informer.wait_synced()
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("orphan sweep failed")
            await asyncio.sleep(self.sweep_period)

    async def run(self) -> None:
        tasks = [asyncio.ensure_future(self.informer.run()), asyncio.ensure_future(self._events()),
                 asyncio.ensure_future(self._sweeper())]
        try:
            await asyncio.gather(*tasks)
        finally:
            workers = list(self.tasks.values())
            for t in tasks + workers:
                t.cancel()
            await asyncio.gather(*tasks, *workers, return_exceptions=True)
