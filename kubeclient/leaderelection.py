"""Leader election on a coordination.k8s.io/v1 Lease, so exactly one replica acts.

The holder renews `spec.renewTime` every retry period; if it cannot renew for
`renew_deadline` it steps down. A candidate takes the Lease over when the record
has not changed for `lease_duration` *as observed on its own clock*: comparing
our monotonic clock with when we last saw the record change avoids trusting
other machines' clocks (the same reasoning as client-go). On a clean stop the
holder releases the Lease (empty holder, 1 s duration) so a successor need not
wait out the lease.
"""
from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable

from . import metrics
from .client import ApiClient, ApiError
from .resources import LEASES
from .timestamps import micro_time

log = logging.getLogger(__name__)

_ELECTORS: weakref.WeakSet = weakref.WeakSet()
metrics.gauge("leader_election_master_status",
              "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates "
              "master. 'name' is the string used to identify the lease.", ("name",),
              read=lambda: {(e.name,): int(e.is_leader) for e in list(_ELECTORS)})


class LeaderElector:
    def __init__(self, client: ApiClient, name: str, identity: str, *, namespace: str = "kube-system",
                 lease_duration: float = 15.0, renew_deadline: float = 10.0, retry_period: float = 2.0,
                 on_started_leading: Callable[[], Awaitable | None] | None = None,
                 on_stopped_leading: Callable[[], Awaitable | None] | None = None,
                 on_new_leader: Callable[[str], None] | None = None):
        self.client, self.name, self.identity, self.namespace = client, name, identity, namespace
        self.lease_duration, self.renew_deadline, self.retry_period = lease_duration, renew_deadline, retry_period
        self.on_started_leading, self.on_stopped_leading = on_started_leading, on_stopped_leading
        self.on_new_leader = on_new_leader
        self.leader: str | None = None
        self._observed: dict | None = None  # the last lease spec we saw
        self._observed_at = 0.0
        self._is_leader = False
        _ELECTORS.add(self)

    @property
    def is_leader(self) -> bool:
        return self._is_leader

    def _observe(self, lease: dict) -> None:
        spec = lease.get("spec") or {}
        if spec != (self._observed or {}).get("spec"):
            self._observed_at = time.monotonic()
            holder = spec.get("holderIdentity") or ""
            if holder != self.leader:
                self.leader = holder
                if self.on_new_leader and holder:
                    self.on_new_leader(holder)
        self._observed = lease

    def _spec(self, transitions: int, acquire_time: str) -> dict:
        return {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                "acquireTime": acquire_time, "renewTime": micro_time(), "leaseTransitions": transitions}

    async def try_acquire_or_renew(self) -> bool:
        try:
            lease = await self.client.get(LEASES, self.name, self.namespace)
        except ApiError as e:
            if not e.not_found:
                raise
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": self._spec(0, micro_time())}
            self._observe(await self.client.create(LEASES, body, self.namespace))
            return True
        self._observe(lease)
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        duration = spec.get("leaseDurationSeconds") or self.lease_duration
        if holder and holder != self.identity and time.monotonic() - self._observed_at < duration:
            return False  # someone else holds a live lease
        transitions = spec.get("leaseTransitions") or 0
        if holder == self.identity:
            new_spec = self._spec(transitions, spec.get("acquireTime") or micro_time())
        else:
            new_spec = self._spec(transitions + 1, micro_time())
        lease["spec"] = new_spec
        # PUT with the resourceVersion we read: a concurrent taker makes this a 409
        self._observe(await self.client.update(LEASES, lease, self.namespace))
        return True

    async def _attempt(self) -> bool:
        try:
            return await self.try_acquire_or_renew()
        except ApiError as e:
            log.debug("lease %s: %s", self.name, e)
            return False

    async def _call(self, fn) -> None:
        if fn:
            result = fn()
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                await result

    async def run(self) -> None:
        """Campaign, lead, and campaign again after losing the lease; until cancelled."""
        try:
            while True:
                while not await self._attempt():
                    await asyncio.sleep(self.retry_period)
                self._is_leader = True
                log.info("%s: %s became leader", self.name, self.identity)
                await self._call(self.on_started_leading)
                last_renew = time.monotonic()
                while True:
                    await asyncio.sleep(self.retry_period)
                    if await self._attempt():
                        last_renew = time.monotonic()
                    elif time.monotonic() - last_renew > self.renew_deadline or (
                            self.leader and self.leader != self.identity):
                        break
                self._is_leader = False
                log.warning("%s: %s lost the lease", self.name, self.identity)
                await self._call(self.on_stopped_leading)
        finally:
            if self._is_leader:
                self._is_leader = False
                await asyncio.shield(self._release())

    async def _release(self) -> None:
        try:
            lease = await self.client.get(LEASES, self.name, self.namespace)
            if (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            lease["spec"].update({"holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": micro_time()})
            await self.client.update(LEASES, lease, self.namespace)
        except Exception as e:  # best effort: the lease expires anyway
            log.debug("lease %s release failed: %r", self.name, e)
