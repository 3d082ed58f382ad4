"""The `kubernetes` Service's endpoints: one address per live API server.

Upstream's "lease" endpoint reconciler keeps a master lease per API server
(`/registry/masterleases/<ip>`, 15 s TTL, renewed every 10 s) and rewrites
`default/kubernetes` Endpoints + EndpointSlice from the live ones. We get the
same observable result with ordinary objects: each server keeps a
coordination.k8s.io Lease in kube-system (labelled as upstream's identity
leases, `apiserver.kubernetes.io/identity: kube-apiserver`) that also names its
advertise address and port in annotations. Every renewal, each server lists the
leases, keeps the unexpired ones and writes the endpoints they imply. A server
that stops cleanly deletes its lease and reconciles at once; one that dies is
dropped by the others once its lease has expired (renewTime + duration).

Ports: upstream assumes every API server listens on the same port. When they
do not (several servers on one host), we do what the endpoints controllers do
for a port that differs between addresses: Endpoints get one subset per port,
and EndpointSlices (whose ports are per slice) one slice per port: the slice of
the lowest port is named `kubernetes`, the others `kubernetes-<port>`.
"""
from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import socket
import uuid
from dataclasses import dataclass

from apiserver.machinery.errors import StatusError
from apiserver.registry.context import WriteContext
from apiserver.registry.options import DeleteOptions, ListOptions

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-system"
IDENTITY_LABEL = "apiserver.kubernetes.io/identity"
IDENTITY_VALUE = "kube-apiserver"
ADDRESS_ANNOTATION = "pocketkube.io/advertise-address"
PORT_ANNOTATION = "pocketkube.io/secure-port"
SERVICE_NAMESPACE = "default"
SERVICE_NAME = "kubernetes"
PORT_NAME = "https"
_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True, order=True)
class ServerAddress:
    ip: str
    port: int


# ---- pure logic (unit-tested) --------------------------------------------------

def lease_name(address: ServerAddress) -> str:
    """Stable per address: a restarted server takes over its own lease."""
    digest = hashlib.sha256(f"{address.ip}:{address.port}".encode()).hexdigest()[:16]
    return f"apiserver-{digest}"


def micro_time(t: datetime.datetime) -> str:
    return t.astimezone(datetime.timezone.utc).strftime(_MICRO)


def parse_time(value: str) -> datetime.datetime | None:
    for fmt in (_MICRO, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.datetime.strptime(value, fmt).replace(tzinfo=datetime.timezone.utc)
        except (TypeError, ValueError):
            continue
    return None


def lease_object(address: ServerAddress, holder: str, duration_s: int, now: datetime.datetime) -> dict:
    return {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": lease_name(address), "namespace": LEASE_NAMESPACE,
                     "labels": {IDENTITY_LABEL: IDENTITY_VALUE, "kubernetes.io/hostname": socket.gethostname()},
                     "annotations": {ADDRESS_ANNOTATION: address.ip, PORT_ANNOTATION: str(address.port)}},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration_s,
                 "acquireTime": micro_time(now), "renewTime": micro_time(now)},
    }


def lease_address(lease: dict) -> ServerAddress | None:
    ann = (lease.get("metadata") or {}).get("annotations") or {}
    try:
        return ServerAddress(ann[ADDRESS_ANNOTATION], int(ann[PORT_ANNOTATION]))
    except (KeyError, ValueError, TypeError):
        return None


def lease_expiry(lease: dict) -> datetime.datetime | None:
    spec = lease.get("spec") or {}
    renewed = parse_time(spec.get("renewTime") or "")
    if renewed is None:
        return None
    return renewed + datetime.timedelta(seconds=int(spec.get("leaseDurationSeconds") or 0))


def live_addresses(leases: list[dict], now: datetime.datetime) -> list[ServerAddress]:
    """Addresses of the servers whose lease has not expired, sorted (ip, port)."""
    live = set()
    for lease in leases:
        address, expiry = lease_address(lease), lease_expiry(lease)
        if address is not None and expiry is not None and expiry >= now:
            live.add(address)
    return sorted(live)


def by_port(addresses: list[ServerAddress]) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for a in sorted(addresses):
        groups.setdefault(a.port, []).append(a.ip)
    return dict(sorted(groups.items()))


def endpoints_subsets(addresses: list[ServerAddress]) -> list[dict]:
    return [{"addresses": [{"ip": ip} for ip in ips],
             "ports": [{"name": PORT_NAME, "port": port, "protocol": "TCP"}]}
            for port, ips in by_port(addresses).items()]


def slice_specs(addresses: list[ServerAddress], fallback_port: int) -> dict[str, dict]:
    """Slice name -> {addressType, endpoints, ports}. With no live server at all,
    the `kubernetes` slice stays, empty (as the Endpoints' subsets do)."""
    groups = by_port(addresses) or {fallback_port: []}
    specs = {}
    for i, (port, ips) in enumerate(groups.items()):
        name = SERVICE_NAME if i == 0 else f"{SERVICE_NAME}-{port}"
        specs[name] = {
            "addressType": "IPv6" if ips and ":" in ips[0] else "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
            "ports": [{"name": PORT_NAME, "port": port, "protocol": "TCP"}],
        }
    return specs


# ---- the loop -------------------------------------------------------------------

class EndpointReconciler:
    """Keeps this server's lease renewed and the kubernetes endpoints in step."""

    def __init__(self, registries, address: ServerAddress, *, lease_duration_s: int = 15,
                 renew_interval_s: float = 10.0):
        self.address = address
        self.duration = max(1, int(lease_duration_s))
        self.interval = renew_interval_s
        self.holder = f"{lease_name(address)}_{uuid.uuid4()}"
        self.leases = registries.for_plural("coordination.k8s.io", "leases")
        self.endpoints = registries.for_plural("", "endpoints")
        self.slices = registries.for_plural("discovery.k8s.io", "endpointslices")
        self._task: asyncio.Task | None = None
        self._stopping = False

    async def start(self) -> None:
        """One round now (so the endpoints name this server before it reports ready), then every interval."""
        await self._round()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _round(self) -> None:
        try:
            await self.renew()
            await self.reconcile()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # etcd away, a conflict: the next round tries again
            log.warning("endpoint reconcile failed: %s", e)

    async def _run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.interval)
            await self._round()

    async def stop(self) -> None:
        """At shutdown: leave the endpoints so clients go to the other servers."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self.leases.delete(LEASE_NAMESPACE, lease_name(self.address), DeleteOptions(), WriteContext())
        except StatusError as e:
            if e.code != 404:
                log.warning("cannot remove this server's lease: %s", e)
        try:
            await self.reconcile()
        except Exception as e:
            log.warning("cannot remove this server from the endpoints: %s", e)

    async def renew(self) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)

        async def refresh(old: dict) -> dict:
            spec = old.setdefault("spec", {})
            if spec.get("holderIdentity") != self.holder:   # a previous run of this server held it
                spec["holderIdentity"] = self.holder
                spec["acquireTime"] = micro_time(now)
            spec["leaseDurationSeconds"] = self.duration
            spec["renewTime"] = micro_time(now)
            return old

        name = lease_name(self.address)
        try:
            await self.leases.guaranteed_update(LEASE_NAMESPACE, name, refresh, WriteContext())
        except StatusError as e:
            if e.code != 404:
                raise
            await self._create(self.leases, LEASE_NAMESPACE, lease_object(self.address, self.holder,
                                                                          self.duration, now))

    async def reconcile(self) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        page = await self.leases.list(LEASE_NAMESPACE, ListOptions(label_selector=f"{IDENTITY_LABEL}={IDENTITY_VALUE}"))
        leases = [item.obj for item in page.items]
        live = [a for a in live_addresses(leases, now) if not (self._stopping and a == self.address)]
        await self._write_endpoints(live)
        await self._write_slices(live)
        await self._collect_garbage(leases, now)

    async def _write_endpoints(self, live: list[ServerAddress]) -> None:
        subsets = endpoints_subsets(live)
        current = await self.endpoints.get_or_none(SERVICE_NAMESPACE, SERVICE_NAME)
        if current is None:
            await self._create(self.endpoints, SERVICE_NAMESPACE, {
                "apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": SERVICE_NAME, "namespace": SERVICE_NAMESPACE,
                             "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                "subsets": subsets})
            return
        if (current.obj.get("subsets") or []) == subsets:
            return

        async def put(old: dict) -> dict:
            old["subsets"] = subsets
            return old
        await self.endpoints.guaranteed_update(SERVICE_NAMESPACE, SERVICE_NAME, put, WriteContext())

    async def _write_slices(self, live: list[ServerAddress]) -> None:
        wanted = slice_specs(live, self.address.port)
        page = await self.slices.list(SERVICE_NAMESPACE,
                                      ListOptions(label_selector=f"kubernetes.io/service-name={SERVICE_NAME}"))
        existing = {item.obj["metadata"]["name"]: item.obj for item in page.items}
        for name, spec in wanted.items():
            have = existing.get(name)
            if have is None:
                await self._create(self.slices, SERVICE_NAMESPACE, {
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": name, "namespace": SERVICE_NAMESPACE,
                                 # no managed-by label: the endpointslice controller
                                 # would delete the slice of this selector-less Service
                                 "labels": {"kubernetes.io/service-name": SERVICE_NAME}},
                    **spec})
            elif any(have.get(k) != v for k, v in spec.items()):
                async def put(old: dict, spec=spec) -> dict:
                    old.update(spec)
                    return old
                await self.slices.guaranteed_update(SERVICE_NAMESPACE, name, put, WriteContext())
        for name in existing:
            if name not in wanted and name.startswith(f"{SERVICE_NAME}-"):
                await self._delete(self.slices, SERVICE_NAMESPACE, name)

    async def _collect_garbage(self, leases: list[dict], now: datetime.datetime) -> None:
        """Leases of servers gone for a whole further lease duration are deleted
        (upstream's apiserver lease garbage collector does the same)."""
        for lease in leases:
            expiry = lease_expiry(lease)
            if expiry is not None and expiry + datetime.timedelta(seconds=self.duration) < now:
                await self._delete(self.leases, LEASE_NAMESPACE, lease["metadata"]["name"])

    @staticmethod
    async def _create(gs, namespace: str, obj: dict) -> None:
        try:
            await gs.create(namespace, obj, WriteContext())
        except StatusError as e:
            if e.code != 409:   # another server made it first: the next round compares again
                raise

    @staticmethod
    async def _delete(gs, namespace: str, name: str) -> None:
        try:
            await gs.delete(namespace, name, DeleteOptions(), WriteContext())
        except StatusError as e:
            if e.code not in (404, 409):
                raise
