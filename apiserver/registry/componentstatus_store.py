"""The store behind v1 componentstatuses: nothing is stored, each read checks the
components as kube-apiserver does, and answers scheduler, controller-manager, etcd-0.

What is checked, honestly for pocketkube's layout:
- etcd-0: the storage backend's own health check (the one /readyz's etcd check uses),
  whatever the backend (etcd or SQLite).
- scheduler and controller-manager: upstream probes their /healthz ports; pocketkube runs
  both in one `pocketkube controllers` process (the scheduler is one of its controllers),
  in process or as a client elsewhere, with no port this server knows. What the server
  does know is that process's leader-election Lease (kube-system/kube-controller-manager):
  both are Healthy while it is held and renewed within its duration, Unhealthy otherwise
  (the error says why). A standby candidate is not seen; a holder that stopped the
  scheduler with --controllers is not either."""
from __future__ import annotations

from datetime import timedelta

import orjson

from apiserver.machinery import timeutil
from apiserver.registry.objects import StoredObject
from apiserver.registry.options import ListOptions
from apiserver.registry.store import GenericStore, ListPage

LEASE_NAMESPACE, LEASE_NAME = "kube-system", "kube-controller-manager"
COMPONENTS = ("scheduler", "controller-manager", "etcd-0")


def lease_problem(lease: dict | None, now) -> str:
    """'' when the lease is held and fresh; else what is wrong with it."""
    where = f"lease {LEASE_NAMESPACE}/{LEASE_NAME}"
    if lease is None:
        return f"{where} not found: no controller manager has been elected"
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity")
    if not holder:
        return f"{where} is not held"
    renewed = timeutil.parse_micro_time(spec.get("renewTime")) or timeutil.parse_micro_time(spec.get("acquireTime"))
    duration = spec.get("leaseDurationSeconds") or 0
    if renewed is None or now > renewed + timedelta(seconds=duration):
        return f"{where} held by {holder} was not renewed within its {duration}s duration"
    return ""


def component_status(name: str, healthy: bool, error: str) -> dict:
    condition = {"type": "Healthy", "status": "True" if healthy else "False"}
    if healthy:
        condition["message"] = "ok"
    else:
        condition["error"] = error
    return {"kind": "ComponentStatus", "apiVersion": "v1", "metadata": {"name": name}, "conditions": [condition]}


class ComponentStatusStore(GenericStore):
    """Reads only (the catalogue serves get and list): every other verb is refused by routing."""

    def __init__(self, generic: GenericStore, leases: GenericStore | None):
        super().__init__(generic.resource, generic.strategy, generic.storage, generic.cache)
        self.leases = leases

    async def _check(self, name: str) -> dict:
        if name == "etcd-0":
            ok = await self.storage.healthy()
            return component_status(name, ok, "" if ok else "the storage backend's health check failed")
        lease = await self.leases.get_or_none(LEASE_NAMESPACE, LEASE_NAME) if self.leases is not None else None
        why = lease_problem(lease.obj if lease is not None else None, timeutil.now())
        return component_status(name, not why, why)

    async def get(self, namespace: str, name: str, resource_version: str = "") -> StoredObject:
        if name not in COMPONENTS:  # upstream answers 500 "Component not found"; bad input is a 4xx here
            raise self.not_found(name)
        return _wrap(await self._check(name))

    async def get_or_none(self, namespace: str, name: str) -> StoredObject | None:
        return _wrap(await self._check(name)) if name in COMPONENTS else None

    async def list(self, namespace: str, opts: ListOptions) -> ListPage:
        lsel, fsel = self.selection(opts)
        items = [_wrap(await self._check(name)) for name in COMPONENTS]
        items = [i for i in items if self.matches(i.obj, lsel, fsel)]
        return ListPage(items, 0)


def _wrap(obj: dict) -> StoredObject:
    return StoredObject(f"/componentstatuses/{obj['metadata']['name']}", 0, orjson.dumps(obj), obj)
