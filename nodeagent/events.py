"""Events as the kubelet emits them (source component "kubelet", host = node).

Repeats of the same (object, reason, message) bump `count` on the existing Event
instead of creating a new one, like upstream's event correlator, so a crash loop
does not flood the API. Failures to record are logged and dropped: events are
best-effort by design.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

from kubeclient import ApiClient, ApiError
from kubeclient.resources import EVENTS

log = logging.getLogger(__name__)


def now_rfc3339() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventRecorder:
    """Events are queued and written by one background task, in order, so a pod
    worker never waits for an event's round trip (three per container start)."""

    def __init__(self, client: ApiClient, node: str):
        self.client, self.node = client, node
        self._seen: dict[tuple, dict] = {}
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None

    async def pod_event(self, pod: dict, etype: str, reason: str, message: str, field_path: str = "") -> None:
        meta = pod["metadata"]
        ref = {"kind": "Pod", "apiVersion": "v1", "namespace": meta["namespace"], "name": meta["name"],
               "uid": meta.get("uid", "")}
        if field_path:
            ref["fieldPath"] = field_path
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=10000)
            self._task = asyncio.ensure_future(self._drain())
        try:
            self._queue.put_nowait((ref, etype, reason, message))
        except asyncio.QueueFull:
            log.debug("event queue full; dropping %s", reason)

    async def _drain(self) -> None:
        while True:
            item = await self._queue.get()
            await self.emit(*item)

    async def flush(self) -> None:
        """Wait until queued events are written (tests and shutdown)."""
        while self._queue is not None and not self._queue.empty():
            await asyncio.sleep(0.01)

    async def emit(self, ref: dict, etype: str, reason: str, message: str) -> None:
        key = (ref.get("uid"), ref.get("fieldPath"), reason, message)
        ns = ref.get("namespace") or "default"
        ts = now_rfc3339()
        try:
            prev = self._seen.get(key)
            if prev is not None:
                prev["count"] = prev.get("count", 1) + 1
                prev["lastTimestamp"] = ts
                try:
                    self._seen[key] = await self.client.patch(
                        EVENTS, prev["metadata"]["name"], {"count": prev["count"], "lastTimestamp": ts}, ns)
                    return
                except ApiError as e:
                    if not e.not_found:
                        raise
            body = {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"{ref['name']}.{uuid.uuid4().hex[:16]}", "namespace": ns},
                "involvedObject": ref, "reason": reason, "message": message, "type": etype,
                "source": {"component": "kubelet", "host": self.node},
                "reportingComponent": "kubelet", "reportingInstance": self.node,
                "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
            }
            self._seen[key] = await self.client.create(EVENTS, body, ns)
            if len(self._seen) > 5000:
                self._seen.clear()
        except Exception as e:  # never let an event break a pod worker
            log.debug("event %s/%s not recorded: %r", reason, ref.get("name"), e)
