"""The proxy's loop: informers on Services and EndpointSlices feed batched syncs.

A change marks the state dirty; the sync loop waits at least min_sync_period
between two syncs (upstream's batching), renders the desired table and applies
only the difference from what it applied last, as one `nft -f` transaction.
A failed transaction forgets what is applied, so the next sync rebuilds the table.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

from kubeclient import ApiClient, metrics
from kubeclient.informer import Informer
from kubeclient.resources import ENDPOINTSLICES, SERVICES

from . import host
from .conntrack import stale_entries
from .model import Snapshot, snapshot
from .rules import Config, Desired, render, transaction

_SYNC_DURATION = metrics.histogram("kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds",
                                   (), tuple(0.001 * 2 ** i for i in range(15)))
_LAST_SYNC = metrics.gauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                           "The last time proxy rules were successfully synced")
log = logging.getLogger(__name__)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class Proxier:
    def __init__(self, client: ApiClient, node_name: str, cfg: Config, *, bridge: str = "podman0",
                 min_sync_period: float = 0.2, sync_period: float = 30.0):
        self.client, self.node_name, self.cfg, self.bridge = client, node_name, cfg, bridge
        self.min_sync_period, self.sync_period = min_sync_period, sync_period
        self.services = Informer(client, SERVICES)
        self.slices = Informer(client, ENDPOINTSLICES)
        self.applied: Desired | None = None
        self.render_cache: dict = {}
        self.last_snapshot: Snapshot | None = None
        self.dirty = asyncio.Event()
        self.synced = asyncio.Event()     # set after the first successful sync
        self.sync_count = 0
        self.last_sync_seconds = 0.0
        for inf in (self.services, self.slices):
            inf.add_handler(lambda *_: self.dirty.set(), lambda *_: self.dirty.set(), lambda *_: self.dirty.set())

    def current_snapshot(self) -> Snapshot:
        by_service: dict[str, list[dict]] = defaultdict(list)
        for s in self.slices.list():
            name = ((s.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL)
            if name:
                by_service[f"{s['metadata'].get('namespace')}/{name}"].append(s)
        return snapshot(self.services.list(), by_service, self.node_name)

    async def sync(self) -> None:
        start = time.perf_counter()
        snap = self.current_snapshot()
        want = render(snap, self.cfg, self.render_cache)
        script = transaction(self.applied, want, self.cfg)
        host.set_hairpin(self.bridge)
        if self.cfg.localhost_nodeports:
            host.enable_route_localnet(self.bridge)
        try:
            await host.nft_apply(script)
        except host.CommandFailed as e:
            log.error("sync failed, the next one rebuilds the table: %s", e)
            self.applied = None
            raise
        self.applied = want
        for args in stale_entries(self.last_snapshot, snap):
            await host.conntrack_delete(args)
        self.last_snapshot = snap
        self.sync_count += 1
        self.last_sync_seconds = time.perf_counter() - start
        _SYNC_DURATION.observe((), self.last_sync_seconds)
        _LAST_SYNC.values[()] = time.time()
        self.synced.set()
        log.debug("synced %d service ports in %.3fs", len(snap.ports), self.last_sync_seconds)

    async def _sync_loop(self) -> None:
        last = 0.0
        delay = 1.0
        while True:
            try:
                await asyncio.wait_for(self.dirty.wait(), timeout=self.sync_period)
            except asyncio.TimeoutError:
                pass
            wait = last + self.min_sync_period - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)   # batch what arrives meanwhile into this sync
            self.dirty.clear()
            last = time.monotonic()
            try:
                await self.sync()
                delay = 1.0
            except host.CommandFailed:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                self.dirty.set()

    async def run(self) -> None:
        """Set up the host, then sync until cancelled."""
        host.enable_ip_forward()
        await host.route_service_range(self.cfg.service_cidr, self.cfg.table)
        tasks = [asyncio.ensure_future(self.services.run()), asyncio.ensure_future(self.slices.run())]
        try:
            await self.services.wait_synced()
            await self.slices.wait_synced()
            self.dirty.set()
            await self._sync_loop()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def cleanup(cfg: Config) -> None:
    """Remove everything the proxy installed: its table and the service-range route."""
    await host.nft_delete_table(cfg.table)
    await host.unroute_service_range(cfg.service_cidr, cfg.table)
