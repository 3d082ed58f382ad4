"""The Node object and its Lease: registration, heartbeats, status.

The Lease in kube-node-lease is the cheap heartbeat (renewed every 10 s); the
full node status (conditions, images, capacity) is posted less often, as upstream
does, or at once when something in it changes.
"""

from __future__ import annotations

import asyncio
import logging

from kubeclient import ApiClient, ApiError, timestamps
from kubeclient.resources import LEASES, NODES

from . import hostinfo
from .runtime.podman import Podman

log = logging.getLogger(__name__)

KUBELET_VERSION = "v1.33.0"
LEASE_DURATION = 40
LEASE_RENEW = 10.0
STATUS_PERIOD = 60.0  # upstream's nodeStatusReportFrequency is 5 min; keep it livelier
NODE_LEASE_NS = "kube-node-lease"


def conditions(old: list[dict], now: str, mem_pressure: bool, disk_pressure: bool) -> list[dict]:
    wanted = [
        ("MemoryPressure", mem_pressure, "KubeletHasSufficientMemory", "KubeletHasInsufficientMemory",
         "kubelet has sufficient memory available", "kubelet has insufficient memory available"),
        ("DiskPressure", disk_pressure, "KubeletHasNoDiskPressure", "KubeletHasDiskPressure",
         "kubelet has no disk pressure", "kubelet has disk pressure"),
        ("PIDPressure", False, "KubeletHasSufficientPID", "KubeletHasInsufficientPID",
         "kubelet has sufficient PID available", "kubelet has insufficient PID available"),
    ]
    before = {c.get("type"): c for c in old or []}
    out = []
    for ctype, bad, ok_reason, bad_reason, ok_msg, bad_msg in wanted:
        out.append({"type": ctype, "status": "True" if bad else "False",
                    "reason": bad_reason if bad else ok_reason, "message": bad_msg if bad else ok_msg})
    out.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status"})
    for c in out:
        prev = before.get(c["type"])
        c["lastHeartbeatTime"] = now
        same = prev and prev.get("status") == c["status"] and prev.get("lastTransitionTime")
        c["lastTransitionTime"] = prev["lastTransitionTime"] if same else now
    return out


def images_of(images: list[dict]) -> list[dict]:
    out = []
    for img in images:
        names = [n for n in (img.get("RepoTags") or img.get("History") or []) if n]
        names += [d for d in img.get("RepoDigests") or [] if d]
        if not names:
            continue
        out.append({"names": names, "sizeBytes": int(img.get("Size") or 0)})
    out.sort(key=lambda i: -i["sizeBytes"])
    return out[:50]


class NodeReporter:
    def __init__(self, client: ApiClient, podman: Podman, name: str, *, host_ip: str, port: int,
                 root_dir: str, labels: dict[str, str] | None = None, reserved_memory: int = 0,
                 eviction_memory: int = 100 * 2**20):
        self.client, self.podman, self.name = client, podman, name
        self.host_ip, self.port, self.root_dir = host_ip, port, root_dir
        self.extra_labels = labels or {}
        self.node_uid = ""
        self.capacity = hostinfo.capacity(root_dir)
        self.allocatable = hostinfo.allocatable(self.capacity, reserved_memory, eviction_memory)
        self.memory_pressure = False  # the eviction manager's verdict
        self._runtime_version = "4"

    def _status(self, old: dict, images: list[dict]) -> dict:
        now = timestamps.now()
        return {
            "capacity": self.capacity,
            "allocatable": self.allocatable,
            "conditions": conditions(old.get("conditions") or [], now, self.memory_pressure, False),
            "addresses": [{"type": "InternalIP", "address": self.host_ip},
                          {"type": "Hostname", "address": self.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
            "nodeInfo": hostinfo.node_info(self._runtime_version, KUBELET_VERSION),
            "images": images_of(images),
        }

    async def register(self) -> dict:
        """Create the Node, or take over an existing one of the same name."""
        try:
            self._runtime_version = await self.podman.version()
        except Exception:  # a slow runtime must not block registration
            pass
        arch = hostinfo.node_info(self._runtime_version, KUBELET_VERSION)["architecture"]
        labels = {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": arch,
                  "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch, **self.extra_labels}
        body = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.name, "labels": labels,
                             "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
                "spec": {}}
        try:
            images = await self.podman.images()
        except Exception:
            images = []
        body["status"] = self._status({}, images)  # as the kubelet: never seen without a status
        try:
            node = await self.client.create(NODES, body)
        except ApiError as e:
            if not e.conflict:
                raise
            node = await self.client.patch(NODES, self.name, {"metadata": {"labels": labels}})
        self.node_uid = node["metadata"].get("uid", "")
        await self.post_status(node)
        try:
            await self.renew_lease()
        except ApiError as e:  # e.g. kube-node-lease not created yet: retried by run()
            log.warning("node lease: %s", e)
        return node

    async def post_status(self, node: dict | None = None) -> None:
        if node is None:
            node = await self.client.get(NODES, self.name)
        try:
            images = await self.podman.images()
        except Exception:
            images = []
        status = self._status(node.get("status") or {}, images)
        await self.client.patch(NODES, self.name, {"status": status}, subresource="status")

    async def set_memory_pressure(self, pressure: bool) -> None:
        """The MemoryPressure condition changes: say so at once, not at the next status period."""
        self.memory_pressure = pressure
        try:
            await self.post_status()
        except ApiError as e:
            log.warning("node status after memory pressure %s: %s", pressure, e)

    async def renew_lease(self) -> None:
        now = timestamps.micro_time()
        spec = {"holderIdentity": self.name, "leaseDurationSeconds": LEASE_DURATION, "renewTime": now}
        try:
            await self.client.patch(LEASES, self.name, {"spec": spec}, NODE_LEASE_NS)
        except ApiError as e:
            if not e.not_found:
                raise
            owner = [{"apiVersion": "v1", "kind": "Node", "name": self.name, "uid": self.node_uid}] \
                if self.node_uid else []
            await self.client.create(LEASES, {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": self.name, "namespace": NODE_LEASE_NS, "ownerReferences": owner},
                "spec": {**spec, "acquireTime": now}}, NODE_LEASE_NS)

    async def run(self) -> None:
        """Heartbeats forever: the Lease every 10 s, the status every minute."""
        ticks = 0
        while True:
            await asyncio.sleep(LEASE_RENEW)
            ticks += 1
            try:
                await self.renew_lease()
                if ticks * LEASE_RENEW >= STATUS_PERIOD:
                    ticks = 0
                    await self.post_status()
            except ApiError as e:
                if e.not_found:
                    log.warning("node %s vanished; registering again", self.name)
                    try:
                        await self.register()
                    except ApiError as e2:
                        log.warning("re-register failed: %s", e2)
                else:
                    log.warning("node heartbeat: %s", e)
