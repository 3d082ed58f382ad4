"""Cluster IPs and node ports for Services, allocated through the store.

A ServiceAllocator holds the two ranges (--service-cluster-ip-range,
--service-node-port-range); the Service strategy (resources/services/) calls:
  allocate_for_create(store, svc, dry_run=)   before the Service is written
  reconcile_on_update(store, old, new, dry_run=)  before an update is written
  release(store, svc)                         once it is gone (or its create failed)
A cluster IP is one IPAddress object (ipaddresses.py: taking it is creating its
key); the node port range's state is one key (/registry/ranges/servicenodeports,
a few thousand ports at most) changed only by compare-and-swap. Either way no
value is handed out twice, whatever the number of API servers sharing the store.
Refusals are 422s worded like upstream's.
"""
from __future__ import annotations

import random
from typing import Callable

from apiserver.machinery import errors
from apiserver.storage.interface import KeyExistsError, RevisionConflictError, Store

from ..validation import field
from . import ipaddresses
from .ranges import (ALREADY_ALLOCATED, PORT_ALREADY_ALLOCATED, AllocationError, IPRange, PortRange,
                     RangeFullError, State)
from .type_change import drop_type_dependent_fields, needs_cluster_ip, needs_health_check_port, needs_node_ports

SERVICE_IPS_KEY = "/registry/ranges/serviceips"  # before IPAddresses: repair.py migrates it
NODE_PORTS_KEY = "/registry/ranges/servicenodeports"
_ATTEMPTS = 64


_rng = random.SystemRandom()


async def _change(store: Store, key: str, range_text: str, fn: Callable[[State], list], dry_run: bool) -> list:
    """Apply `fn` (which mutates a State and returns its result) with compare-and-swap."""
    for _ in range(_ATTEMPTS):
        kv = await store.get(key)
        state = State.decode(kv.value if kv else None, range_text)
        before = dict(state.taken)
        result = fn(state)
        if dry_run or state.taken == before:
            return result
        try:
            if kv is None:
                await store.create(key, state.encode())
            else:
                await store.update(key, state.encode(), expected_revision=kv.mod_revision)
            return result
        except (KeyExistsError, RevisionConflictError):
            continue
    raise errors.service_unavailable(f"could not update {key}: too many concurrent changes")


def _claim(requested: list, pick: Callable[[dict], object], owner: str, in_use: set = frozenset()) -> Callable[[State], list]:
    """Claim each wanted value (None: any free one) for `owner`. A value the
    owner already holds but no longer uses (left by an attempt that was
    retried) is handed back out before a fresh one is picked."""
    def fn(state: State) -> list:
        out = []
        spare = [v for v, o in state.taken.items() if o == owner and owner and v not in in_use
                 and v not in requested]
        for want in requested:
            if want is None:
                value = spare.pop() if spare else pick(state.taken)
            elif want in state.taken and (state.taken[want] != owner or not owner):
                raise AllocationError("taken")
            else:
                value = want
            state.taken[value] = owner
            out.append(value)
        return out
    return fn


def _release(values: list, owner: str) -> Callable[[State], list]:
    def fn(state: State) -> list:
        for v in values:
            if v in state.taken and state.taken[v] in (owner, ""):
                del state.taken[v]
        return []
    return fn


def _owner(svc: dict) -> str:
    return (svc.get("metadata") or {}).get("uid") or ""


def _svc_error(svc: dict, cause) -> errors.StatusError:
    name = (svc.get("metadata") or {}).get("name", "")
    return errors.invalid("", "Service", name, [cause])


# ---- cluster IPs ---------------------------------------------------------------

async def _claim_ip(r: IPRange, store: Store, svc: dict, dry_run: bool) -> str | None:
    spec = svc["spec"]
    if not needs_cluster_ip(spec):
        if spec.get("clusterIP") == "None":
            spec["clusterIPs"] = ["None"]
        return None
    want = spec.get("clusterIP") or ((spec.get("clusterIPs") or [None])[0]) or None
    if want is not None and not r.contains(want):
        raise _svc_error(svc, field.invalid("spec.clusterIPs", [want], f"failed to allocate IP {want}: {r.out_of_range(want)}"))
    try:
        ip = await ipaddresses.claim(store, r, svc, want, dry_run)
    except RangeFullError:
        raise errors.internal_error("failed to allocate a serviceIP: range is full") from None
    except AllocationError:
        raise _svc_error(svc, field.invalid("spec.clusterIPs", [want], f"failed to allocate IP {want}: {ALREADY_ALLOCATED}")) from None
    spec["clusterIP"] = ip
    spec["clusterIPs"] = [ip]
    return ip


# ---- node ports -------------------------------------------------------------------

def _wanted_ports(spec: dict, keep: dict | None = None) -> tuple[list[tuple[str, int | None]], list]:
    """(path, requested port or None) for every port that needs one, one entry per
    distinct port number: TCP and UDP twins of a port may share a nodePort."""
    wants: list[tuple[str, int | None]] = []
    targets: list = []
    if needs_node_ports(spec) or any(p.get("nodePort") for p in spec.get("ports") or []):
        for i, p in enumerate(spec.get("ports") or []):
            if p.get("nodePort") or needs_node_ports(spec):
                wants.append((f"spec.ports[{i}].nodePort", p.get("nodePort") or None))
                targets.append(p)
    if needs_health_check_port(spec):
        wants.append(("spec.healthCheckNodePort", spec.get("healthCheckNodePort") or None))
        targets.append(None)
    return wants, targets


async def _claim_ports(r: PortRange, store: Store, svc: dict, wants: list, targets: list, dry_run: bool,
                       in_use: set = frozenset()) -> list[int]:
    for path, want in wants:
        if want is not None and not r.contains(want):
            raise _svc_error(svc, field.invalid(path, want, r.out_of_range(want)))
    explicit = sorted({w for _, w in wants if w is not None})
    n_auto = sum(1 for _, w in wants if w is None)
    try:
        got = await _change(store, NODE_PORTS_KEY, str(r),
                            _claim(explicit + [None] * n_auto, lambda t: r.pick(t, _rng), _owner(svc), in_use), dry_run)
    except RangeFullError:
        raise errors.internal_error("failed to allocate a nodePort: range is full") from None
    except AllocationError:
        taken = await _taken(store, NODE_PORTS_KEY)
        path, want = next(((p, w) for p, w in wants if w in taken and taken[w] != _owner(svc)), wants[0])
        raise _svc_error(svc, field.invalid(path, want, PORT_ALREADY_ALLOCATED)) from None
    auto = iter(got[len(explicit):])
    spec = svc["spec"]
    for (path, want), target in zip(wants, targets):
        value = want if want is not None else next(auto)
        if target is None:
            spec["healthCheckNodePort"] = value
        else:
            target["nodePort"] = value
    return got


async def _taken(store: Store, key: str) -> dict:
    kv = await store.get(key)
    return State.decode(kv.value if kv else None, "").taken


def _ports_of(svc: dict) -> list[int]:
    spec = svc.get("spec") or {}
    ports = {p["nodePort"] for p in spec.get("ports") or [] if isinstance(p.get("nodePort"), int) and p["nodePort"]}
    if spec.get("healthCheckNodePort"):
        ports.add(spec["healthCheckNodePort"])
    return sorted(ports)


def _ips_of(svc: dict) -> list[str]:
    spec = svc.get("spec") or {}
    ips = set(spec.get("clusterIPs") or []) | ({spec["clusterIP"]} if spec.get("clusterIP") else set())
    return sorted(ip for ip in ips if ip and ip != "None")


# ---- the strategy's entry points ----------------------------------------------------

class ServiceAllocator:
    """The cluster IP and node port ranges of one API server, and the three
    calls the Service strategy makes."""

    def __init__(self, ip_range: IPRange, port_range: PortRange):
        self.ip_range = ip_range
        self.port_range = port_range

    @classmethod
    def from_flags(cls, service_cidr: str, node_port_range: str) -> "ServiceAllocator":
        """From --service-cluster-ip-range (its first range) and --service-node-port-range."""
        return cls(IPRange(service_cidr.split(",")[0].strip()), PortRange.parse(node_port_range))

    def kubernetes_service_ip(self) -> str:
        """The address the `kubernetes` Service asks for: the range's first usable one."""
        return self.ip_range.first_usable()

    async def allocate_for_create(self, store: Store, svc: dict, dry_run: bool = False) -> None:
        spec = svc.setdefault("spec", {})
        ip = await _claim_ip(self.ip_range, store, svc, dry_run)
        wants, targets = _wanted_ports(spec)
        if not wants:
            return
        try:
            await _claim_ports(self.port_range, store, svc, wants, targets, dry_run)
        except BaseException:
            if ip is not None and not dry_run:
                await ipaddresses.release(store, [ip], _owner(svc))
            raise

    async def release(self, store: Store, svc: dict) -> None:
        ips, ports = _ips_of(svc), _ports_of(svc)
        if ips:
            await ipaddresses.release(store, ips, _owner(svc))
        if ports:
            await _change(store, NODE_PORTS_KEY, str(self.port_range), _release(ports, _owner(svc)), False)

    async def reconcile_on_update(self, store: Store, old: dict, new: dict, dry_run: bool = False) -> None:
        spec = new.setdefault("spec", {})
        old_spec = old.get("spec") or {}
        drop_type_dependent_fields(new, old)
        _carry_over(spec, old_spec)
        old_ips, old_ports = set(_ips_of(old)), set(_ports_of(old))
        claimed_ip = None
        if needs_cluster_ip(spec) and not (set(_ips_of(new)) & old_ips and spec.get("clusterIP") in old_ips):
            claimed_ip = await _claim_ip(self.ip_range, store, new, dry_run)
        elif not needs_cluster_ip(spec) and spec.get("clusterIP") == "None":
            spec["clusterIPs"] = ["None"]
        wants, targets = _wanted_ports(spec)
        fresh = [(w, t) for w, t in zip(wants, targets) if w[1] is None or w[1] not in old_ports]
        try:
            if fresh:
                await _claim_ports(self.port_range, store, new, [w for w, _ in fresh], [t for _, t in fresh],
                                   dry_run, old_ports | {w for (_, w), _t in zip(wants, targets) if w is not None})
        except BaseException:
            if claimed_ip and not dry_run:
                await ipaddresses.release(store, [claimed_ip], _owner(new))
            raise
        if dry_run:
            return
        gone_ips = sorted(old_ips - set(_ips_of(new)))
        gone_ports = sorted(old_ports - set(_ports_of(new)))
        if gone_ips:
            await ipaddresses.release(store, gone_ips, _owner(new))
        if gone_ports:
            await _change(store, NODE_PORTS_KEY, str(self.port_range), _release(gone_ports, _owner(new)), False)


def _carry_over(new_spec: dict, old_spec: dict) -> None:
    """A PUT without the allocated values keeps them (as upstream's patchAllocatedValues)."""
    if needs_cluster_ip(new_spec) and needs_cluster_ip(old_spec) and not new_spec.get("clusterIP"):
        if old_spec.get("clusterIP"):
            new_spec["clusterIP"] = old_spec["clusterIP"]
            new_spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
    if needs_node_ports(new_spec) and needs_node_ports(old_spec):
        old_ports = {(p.get("port"), p.get("protocol")): p.get("nodePort") for p in old_spec.get("ports") or []}
        for p in new_spec.get("ports") or []:
            if not p.get("nodePort") and old_ports.get((p.get("port"), p.get("protocol"))):
                p["nodePort"] = old_ports[(p.get("port"), p.get("protocol"))]
    if needs_health_check_port(new_spec) and needs_health_check_port(old_spec):
        if not new_spec.get("healthCheckNodePort") and old_spec.get("healthCheckNodePort"):
            new_spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]
