"""Keep IPAddress objects and Services' cluster IPs in step, as upstream's repair
loop does: run once at start and then every few minutes by the server.

- a Service's cluster IP without its IPAddress (a store written before IPAddresses,
  or one deleted by hand) gets it back;
- an IPAddress this allocator made whose Service is gone or holds another address
  (a crash between taking the address and writing the Service, an update retried
  after a conflict) is deleted, once older than `grace_s`: a younger one may
  belong to a create still in flight on this or another API server;
- the range document of older versions (/registry/ranges/serviceips) goes once
  its addresses are objects.
"""
from __future__ import annotations

import calendar
import logging
import time
from dataclasses import dataclass

import orjson

from apiserver.storage.interface import KeyExistsError, KeyNotFoundError, RevisionConflictError, Store

from . import ipaddresses
from .ranges import IPRange

log = logging.getLogger(__name__)

SERVICES_PREFIX = "/registry/services/"
LEGACY_KEY = "/registry/ranges/serviceips"


@dataclass
class RepairResult:
    restored: int = 0   # IPAddresses written for Services that lacked theirs
    freed: int = 0      # orphaned IPAddresses deleted
    conflicts: int = 0  # a Service's IP held by another Service's IPAddress (left alone)


async def _all(store: Store, prefix: str):
    start = None
    while True:
        page = await store.list(prefix, limit=5000, start_key=start)
        for kv in page.items:
            yield kv
        if not page.more or not page.items:
            return
        start = page.items[-1].key + "\x00"


def _age_s(created: str, now: float) -> float:
    try:
        return now - calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return float("inf")


async def repair(store: Store, r: IPRange, services_prefix: str = SERVICES_PREFIX, grace_s: float = 60.0) -> RepairResult:
    """One pass over Services and IPAddresses (see the module's note)."""
    result = RepairResult()
    held: dict[str, dict] = {}  # ip -> the Service holding it
    async for kv in _all(store, services_prefix):
        svc = orjson.loads(kv.value)
        spec = svc.get("spec") or {}
        for ip in set(spec.get("clusterIPs") or []) | ({spec["clusterIP"]} if spec.get("clusterIP") else set()):
            if ip and ip != "None" and r.contains(ip):
                held[ip] = svc
    now = time.time()
    seen: set[str] = set()
    async for kv in _all(store, ipaddresses.PREFIX):
        ip = kv.key[len(ipaddresses.PREFIX):]
        seen.add(ip)
        owner, ours = ipaddresses.owner_of(kv.value)
        svc = held.get(ip)
        if svc is not None and owner != ((svc.get("metadata") or {}).get("uid") or ""):
            result.conflicts += 1
            log.warning("cluster IP %s of service %s/%s is held by another IPAddress", ip,
                        svc["metadata"].get("namespace"), svc["metadata"].get("name"))
        if svc is not None or not ours:
            continue
        created = (orjson.loads(kv.value).get("metadata") or {}).get("creationTimestamp")
        if _age_s(created, now) < grace_s:
            continue
        try:
            await store.delete(kv.key, expected_revision=kv.mod_revision)
            result.freed += 1
        except (KeyNotFoundError, RevisionConflictError):
            pass
    for ip, svc in held.items():
        if ip in seen:
            continue
        try:
            await store.create(ipaddresses.key_of(ip), orjson.dumps(ipaddresses.ipaddress_object(ip, svc)))
            result.restored += 1
        except KeyExistsError:
            pass  # taken meanwhile by a create in flight: the Service's own claim decides
    if await store.get(LEGACY_KEY) is not None:
        try:
            await store.delete(LEGACY_KEY)
        except KeyNotFoundError:
            pass
    return result
