"""The proxy's loop: informers on Services and EndpointSlices feed batched syncs.

A change marks its Service dirty; the sync loop waits at least min_sync_period
between two syncs (upstream's batching), recomputes the ServicePorts of the dirty
Services only, and applies the difference for the ports that changed
(proxy/programmed.py) as one `nft -f` transaction. A failed transaction rebuilds
the whole table on the next sync; every sync_period everything is recomputed.
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
from .model import ServicePort, Snapshot, service_ports
from .programmed import Programmed
from .rules import Config, transaction

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
        self.programmed = Programmed(cfg)
        self.table_ok = False             # the table holds self.programmed (else: rebuild it)
        self.ports_by_service: dict[str, list[ServicePort]] = {}
        self.slices_by_service: dict[str, dict[str, dict]] = defaultdict(dict)
        self.dirty_services: set[str] | None = None   # None: all of them
        self.last_snapshot: Snapshot | None = None
        self.dirty = asyncio.Event()
        self.synced = asyncio.Event()     # set after the first successful sync
        self.sync_count = 0
        self.last_sync_seconds = 0.0
        self.services.add_handler(self._service_changed, lambda _, new: self._service_changed(new),
                                  self._service_changed)
        self.slices.add_handler(self._slice_added, self._slice_updated, self._slice_deleted)

    # --- what changed ------------------------------------------------------------------
    def _mark(self, key: str | None) -> None:
        if key and self.dirty_services is not None:
            self.dirty_services.add(key)
        self.dirty.set()

    def _service_changed(self, svc: dict) -> None:
        meta = svc.get("metadata") or {}
        self._mark(f"{meta.get('namespace')}/{meta.get('name')}")

    @staticmethod
    def _slice_service(s: dict) -> str | None:
        meta = s.get("metadata") or {}
        name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        return f"{meta.get('namespace')}/{name}" if name else None

    def _slice_added(self, s: dict) -> None:
        key = self._slice_service(s)
        if key:
            self.slices_by_service[key][s["metadata"]["name"]] = s
        self._mark(key)

    def _slice_deleted(self, s: dict) -> None:
        key = self._slice_service(s)
        if key:
            self.slices_by_service[key].pop(s["metadata"]["name"], None)
            if not self.slices_by_service[key]:
                del self.slices_by_service[key]
        self._mark(key)

    def _slice_updated(self, old: dict, new: dict) -> None:
        self._slice_deleted(old)
        self._slice_added(new)

    def _recompute(self) -> list[ServicePort]:
        """The ServicePorts of the dirty Services again (all, on a full resync); every port, sorted."""
        dirty, self.dirty_services = self.dirty_services, set()
        keys = list(self.services.cache) if dirty is None else dirty
        for key in keys:
            svc = self.services.get(key)
            if svc is None:
                self.ports_by_service.pop(key, None)
                continue
            slices = list(self.slices_by_service.get(key, {}).values())
            self.ports_by_service[key] = service_ports(svc, slices, self.node_name)
        if dirty is None:
            for key in [k for k in self.ports_by_service if k not in self.services.cache]:
                del self.ports_by_service[key]
        return [sp for ports in self.ports_by_service.values() for sp in ports]

    async def sync(self) -> None:
        start = time.perf_counter()
        ports = self._recompute()
        before, after = self.programmed.update(ports)
        script = transaction(before, after, self.cfg) if self.table_ok else \
            transaction(None, self.programmed.desired(), self.cfg)
        host.set_hairpin(self.bridge)
        if self.cfg.localhost_nodeports:
            host.enable_route_localnet(self.bridge)
        try:
            if script.strip():
                await host.nft_apply(script)
        except host.CommandFailed as e:
            log.error("sync failed, the next one rebuilds the table: %s", e)
            self.table_ok = False
            raise
        self.table_ok = True
        snap = Snapshot(ports)
        for args in stale_entries(self.last_snapshot, snap):
            await host.conntrack_delete(args)
        self.last_snapshot = snap
        self.sync_count += 1
        self.last_sync_seconds = time.perf_counter() - start
        _SYNC_DURATION.observe((), self.last_sync_seconds)
        _LAST_SYNC.values[()] = time.time()
        self.synced.set()
        log.debug("synced %d service ports in %.3fs (%d script lines)", len(ports), self.last_sync_seconds,
                  script.count("\n"))

    async def _sync_loop(self) -> None:
        last = 0.0
        delay = 1.0
        while True:
            try:
                await asyncio.wait_for(self.dirty.wait(), timeout=self.sync_period)
            except asyncio.TimeoutError:
                self.dirty_services = None     # the periodic resync recomputes everything
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
                self.dirty_services = None
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
