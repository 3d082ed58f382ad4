"""What every pod worker shares: the runtime, the API client, the node's facts."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from kubeclient import ApiClient, ApiError, EventRecorder
from kubeclient.resources import CONFIGMAPS, SECRETS, SERVICES, SERVICEACCOUNTS, Resource

from ..runtime.podman import Podman
from .env import service_link_env


_PVCS = Resource("", "v1", "persistentvolumeclaims")
_PVS = Resource("", "v1", "persistentvolumes", False)
_RUNTIMECLASSES = Resource("node.k8s.io", "v1", "runtimeclasses", False)


class SharedFetches:
    """Fetches kept for `ttl` seconds by key, the fetch itself rather than its answer, so
    callers asking while one runs (a pod worker prefetching while its sandbox starts, then
    its container start; 30 replicas starting together) share it. A fetch that failed, or
    whose answer `keep` refuses, is not reused."""

    def __init__(self, ttl: float, keep=lambda value: True):
        self.ttl = ttl
        self.keep = keep
        self._entries: dict[object, tuple[float, asyncio.Future]] = {}

    def _reusable(self, task: asyncio.Future) -> bool:
        if not task.done():
            return True
        return not task.cancelled() and task.exception() is None and self.keep(task.result())

    async def get(self, key, fetch):
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit and now - hit[0] < self.ttl and self._reusable(hit[1]):
            return await asyncio.shield(hit[1])
        task = asyncio.ensure_future(fetch())
        self._entries[key] = (now, task)
        return await asyncio.shield(task)

    def forget(self, key) -> None:
        self._entries.pop(key, None)


def start_in_background(aw) -> None:
    """Run `aw` without waiting for it (a prefetch); its error is left to whoever asks next."""
    task = asyncio.ensure_future(aw)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


class ApiSources:
    """ConfigMaps, Secrets, Services and tokens read from the API for env and volumes.
    A short cache keeps a pod start from asking twice; volumes refresh through it."""

    TTL = 2.0

    def __init__(self, client: ApiClient):
        self.client = client
        self._fetches = SharedFetches(self.TTL)

    async def _cached(self, key: tuple, fetch):
        return await self._fetches.get(key, fetch)

    async def _get(self, res, ns: str, name: str) -> dict | None:
        async def fetch():
            try:
                return await self.client.get(res, name, ns)
            except ApiError as e:
                if e.not_found or e.code == 403:
                    return None
                raise
        return await self._cached((res.plural, ns, name), fetch)

    async def configmap(self, namespace: str, name: str) -> dict | None:
        return await self._get(CONFIGMAPS, namespace, name)

    async def secret(self, namespace: str, name: str) -> dict | None:
        return await self._get(SECRETS, namespace, name)

    async def claim(self, namespace: str, name: str) -> dict | None:
        return await self._get(_PVCS, namespace, name)

    async def volume(self, name: str) -> dict | None:
        return await self._get(_PVS, "", name)

    async def runtime_class(self, name: str) -> dict | None:
        return await self._get(_RUNTIMECLASSES, "", name)

    def prefetch_service_env(self, namespace: str) -> None:
        """Start reading the namespace's Services now (a pod's sandbox is being made);
        the container start then finds them in the cache."""
        start_in_background(self.service_env(namespace))

    async def service_env(self, namespace: str) -> dict[str, str]:
        async def fetch():
            try:
                svcs = (await self.client.list(SERVICES, namespace)).get("items") or []
                if namespace != "default":
                    svcs += [s for s in (await self.client.list(SERVICES, "default")).get("items") or []
                             if s["metadata"]["name"] == "kubernetes"]
                return service_link_env(svcs)
            except ApiError:
                return {}
        return await self._cached(("svc-env", namespace), fetch)

    async def token(self, pod: dict, audience: str | None, seconds: int) -> str | None:
        meta = pod["metadata"]
        sa = pod["spec"].get("serviceAccountName") or "default"
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"expirationSeconds": max(seconds, 600),
                         "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": meta["name"],
                                            "uid": meta["uid"]}}}
        if audience:
            body["spec"]["audiences"] = [audience]
        try:
            tr = await self.client.create(SERVICEACCOUNTS, body, meta["namespace"], subresource="token", name=sa)
            return (tr.get("status") or {}).get("token")
        except ApiError:
            return None  # the API server cannot issue tokens (yet): project what exists


class ImageInfo:
    """Podman's image inspections, shared for TTL seconds: the pods starting together
    (30 replicas of one image) ask once, and a pod worker can ask while its sandbox
    starts. An image found missing is not kept, so a pull is always preceded by a fresh look."""

    TTL = 2.0

    def __init__(self, podman: Podman):
        self.podman = podman
        self._fetches = SharedFetches(self.TTL, keep=lambda info: info is not None)

    async def inspect(self, ref: str) -> dict | None:
        return await self._fetches.get(ref, lambda: self.podman.image_inspect(ref))

    def prefetch(self, ref: str) -> None:
        start_in_background(self.inspect(ref))

    def forget(self, ref: str) -> None:
        self._fetches.forget(ref)


@dataclass
class AgentContext:
    client: ApiClient
    podman: Podman
    recorder: EventRecorder
    node_name: str
    host_ip: str
    root_dir: str
    sources: ApiSources
    node_allocatable: dict[str, str] = field(default_factory=dict)
    cluster_dns: list[str] = field(default_factory=list)     # the kubelet's --cluster-dns
    cluster_domain: str = "cluster.local"
    host_resolv_conf: str = "/etc/resolv.conf"
    host_hosts_file: str = "/etc/hosts"
    seccomp_default: bool = True     # the kubelet's --seccomp-default, on here by default
    images: ImageInfo | None = None

    def __post_init__(self) -> None:
        if self.images is None:
            self.images = ImageInfo(self.podman)
