"""Mirror pods of the static components: created, kept and reported by the node agent.

As the kubelet does for static pods, the node agent owns these API objects: it
creates each one that is missing, deletes and creates anew one that was deleted
(a mirror pod cannot be removed while its component runs) or whose manifest
changed, and writes its status, Ready following the component's health, probed
every PROBE_PERIOD seconds and at once when one of the pods changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Callable

from kubeclient import ApiClient, ApiError, timestamps
from kubeclient.informer import Informer
from kubeclient.resources import PODS

from .spec import (HASH_ANNOTATION, NAMESPACE, StaticComponent, config_hash, is_mirror, mirror_pod,
                   mirror_status, ready_of)

log = logging.getLogger(__name__)

PROBE_PERIOD = 5.0
PROBE_TIMEOUT = 3.0


class MirrorPods:
    def __init__(self, client: ApiClient, node_name: str, components: list[StaticComponent], *,
                 host_ip: str, node_uid: Callable[[], str], probe_period: float = PROBE_PERIOD):
        self.client, self.node, self.components = client, node_name, list(components)
        self.host_ip, self.node_uid, self.probe_period = host_ip, node_uid, probe_period
        self.informer = Informer(client, PODS, NAMESPACE, field_selector=f"spec.nodeName={node_name}")
        self.informer.add_handler(self._changed, lambda _o, _n: self._changed(_n), self._changed)
        self.wake = asyncio.Event()
        self.started = timestamps.now()
        self._ready: dict[str, tuple[bool, str]] = {}   # component -> (ready, since)
        self._warned: set[str] = set()

    def _changed(self, pod: dict) -> None:
        if self.component_for(NAMESPACE, pod["metadata"].get("name", "")) is not None:
            self.wake.set()

    def component_for(self, namespace: str, pod: str) -> StaticComponent | None:
        if namespace != NAMESPACE:
            return None
        for comp in self.components:
            if comp.pod_name(self.node) == pod:
                return comp
        return None

    async def run(self) -> None:
        informer = asyncio.ensure_future(self.informer.run())
        try:
            await self.informer.wait_synced()
            while True:
                self.wake.clear()
                for comp in self.components:
                    try:
                        await self.sync(comp)
                    except ApiError as e:
                        log.warning("mirror pod %s: %s", comp.pod_name(self.node), e)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.probe_period)
        finally:
            informer.cancel()
            await asyncio.gather(informer, return_exceptions=True)

    async def probe(self, comp: StaticComponent) -> bool:
        try:
            ready = bool(await asyncio.wait_for(comp.healthy(), PROBE_TIMEOUT))
        except Exception:
            ready = False
        prev = self._ready.get(comp.name)
        if prev is None or prev[0] != ready:
            self._ready[comp.name] = (ready, timestamps.now())
        return ready

    async def sync(self, comp: StaticComponent) -> None:
        name = comp.pod_name(self.node)
        ready = await self.probe(comp)
        pod = self.informer.get(f"{NAMESPACE}/{name}")
        if pod is not None and not is_mirror(pod):
            if name not in self._warned:  # someone else's pod: the kubelet leaves it alone too
                log.warning("pod %s/%s exists and is not a mirror pod; not replacing it", NAMESPACE, name)
                self._warned.add(name)
            return
        if pod is not None and (pod["metadata"].get("deletionTimestamp")
                                or pod["metadata"]["annotations"].get(HASH_ANNOTATION)
                                != config_hash(comp, self.node)):
            await self._delete(pod)
            pod = None
        if pod is None:
            try:
                pod = await self.client.create(PODS, mirror_pod(comp, self.node, self.node_uid(), self.started),
                                               NAMESPACE)
            except ApiError as e:
                if e.already_exists:  # the informer has not seen it yet: its event wakes us
                    return
                raise
            self.informer.assume(pod)
            log.info("created mirror pod %s/%s", NAMESPACE, name)
        if ready_of(pod) != ready or (pod.get("status") or {}).get("phase") != "Running":
            status = mirror_status(comp, ready=ready, host_ip=self.host_ip, started=self.started,
                                   ready_since=self._ready[comp.name][1])
            pod = await self.client.patch(PODS, name, {"status": status}, NAMESPACE, subresource="status")
            self.informer.assume(pod)

    async def _delete(self, pod: dict) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete(PODS, meta["name"], NAMESPACE, grace_period_seconds=0,
                                     preconditions={"uid": meta["uid"]})
        except ApiError as e:
            if not (e.not_found or e.conflict):
                raise
        log.info("deleted mirror pod %s/%s to create it anew", NAMESPACE, meta["name"])
