"""Cluster IPs held as networking.k8s.io/v1 IPAddress objects, one per address, as
upstream's allocator does since 1.33: /registry/ipaddresses/<ip>.

Taking an address is creating its key: the store's create-if-absent decides
between two API servers wanting the same one, and a create costs the same with
10 Services or 100,000 (the range state used to be one document rewritten on
every create). The IPAddress names its Service in spec.parentRef and carries
the Service's uid (OWNER_ANNOTATION): claims by the same Service are
idempotent, and a release never frees another Service's address. The address
is taken before the Service is written, so a crash between the two leaves an
IPAddress without its Service: repair.py gives those back.
"""
from __future__ import annotations

import ipaddress
import random

import orjson

from apiserver.registry.objects import new_uid, now_rfc3339
from apiserver.storage.interface import KeyExistsError, KeyNotFoundError, RevisionConflictError, Store

from .ranges import AllocationError, IPRange, RangeFullError

PREFIX = "/registry/ipaddresses/"
MANAGED_BY = "ipaddress.kubernetes.io/managed-by"
ALLOCATOR = "ipallocator.k8s.io"
FAMILY = "ipaddress.kubernetes.io/ip-family"
OWNER_ANNOTATION = "pocketkube.io/parent-uid"
_RANDOM_TRIES = 16  # before listing what is taken (a range nearly full)

_rng = random.SystemRandom()


def key_of(ip: str) -> str:
    return PREFIX + ip


def ipaddress_object(ip: str, svc: dict) -> dict:
    meta = svc.get("metadata") or {}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IPAddress",
            "metadata": {"name": ip, "uid": new_uid(), "creationTimestamp": now_rfc3339(), "generation": 1,
                         "labels": {MANAGED_BY: ALLOCATOR,
                                    FAMILY: "IPv6" if ":" in ip else "IPv4"},
                         "annotations": {OWNER_ANNOTATION: meta.get("uid") or ""}},
            "spec": {"parentRef": {"group": "", "resource": "services",
                                   "namespace": meta.get("namespace") or "", "name": meta.get("name") or ""}}}


def owner_of(raw: bytes) -> tuple[str, bool]:
    """(owner uid, made by this allocator) of a stored IPAddress."""
    meta = orjson.loads(raw).get("metadata") or {}
    ours = (meta.get("labels") or {}).get(MANAGED_BY) == ALLOCATOR
    return (meta.get("annotations") or {}).get(OWNER_ANNOTATION) or "", ours


async def taken_in(store: Store, r: IPRange) -> set[str]:
    """Every address of the range held by an IPAddress (one pass over the prefix)."""
    taken, start = set(), None
    while True:
        page = await store.list(PREFIX, limit=5000, start_key=start)
        taken.update(kv.key[len(PREFIX):] for kv in page.items)
        if not page.more or not page.items:
            return {ip for ip in taken if r.contains(ip)}
        start = page.items[-1].key + "\x00"


def _random_candidate(r: IPRange) -> str:
    net = r.network
    lo = int(net.network_address) + 2  # .1 is kept for the kubernetes Service
    hi = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    if hi < lo:
        raise RangeFullError("range is full")
    return str(ipaddress.ip_address(_rng.randint(lo, hi)))


async def claim(store: Store, r: IPRange, svc: dict, want: str | None, dry_run: bool) -> str:
    """Take `want` (or any free address) for `svc`. AllocationError when `want` is held
    by something else; RangeFullError when nothing is free."""
    owner = (svc.get("metadata") or {}).get("uid") or ""
    if want is not None:
        if await _take(store, want, svc, owner, dry_run):
            return want
        raise AllocationError("taken")
    for _ in range(_RANDOM_TRIES):
        ip = _random_candidate(r)
        if await _take(store, ip, svc, "", dry_run):
            return ip
    while True:  # crowded: pick among what a listing says is free
        ip = r.pick(await taken_in(store, r), _rng)
        if await _take(store, ip, svc, "", dry_run):
            return ip


async def _take(store: Store, ip: str, svc: dict, owner: str, dry_run: bool) -> bool:
    """True when `ip` is now `svc`'s: created here, or already held by the same owner
    (an update retried after a conflict claims again)."""
    key = key_of(ip)
    if not dry_run:
        try:
            await store.create(key, orjson.dumps(ipaddress_object(ip, svc)))
            return True
        except KeyExistsError:
            pass
    kv = await store.get(key)
    if kv is None:
        return dry_run
    held_by, ours = owner_of(kv.value)
    return bool(owner) and ours and held_by == owner


async def release(store: Store, ips: list[str], owner: str) -> None:
    """Delete the IPAddresses of `ips` this allocator made for `owner`."""
    for ip in ips:
        kv = await store.get(key_of(ip))
        if kv is None:
            continue
        held_by, ours = owner_of(kv.value)
        if not ours or held_by != owner:
            continue
        try:
            await store.delete(kv.key, expected_revision=kv.mod_revision)
        except (KeyNotFoundError, RevisionConflictError):
            pass  # gone already, or taken again by someone else in between
