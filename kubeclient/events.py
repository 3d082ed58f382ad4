"""Event recorder: core/v1 Events about objects, posted in the background.

One recorder serves every client: controllers record as their component (the
host is this machine), the node agent as "kubelet" with its node as the host.
Repeats of the same event (same object and field path, type, reason, message)
are folded into one Event whose `count` grows and whose `lastTimestamp` moves,
as upstream's recorder does, so a pod failing to schedule every few seconds or
a container in a crash loop does not produce a new object each time. Posting
never blocks the caller: events go through a bounded queue, written in order by
one task, and are dropped (with a log line) if the API server falls behind.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import OrderedDict

from .client import ApiClient, ApiError
from .resources import EVENTS
from .timestamps import now

log = logging.getLogger(__name__)


def involved_object(obj: dict, field_path: str = "") -> dict:
    """The ObjectReference of an event; field_path names a part of it (a container: spec.containers{web})."""
    meta = obj.get("metadata") or {}
    ref = {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", ""), "name": meta.get("name", ""),
           "uid": meta.get("uid", ""), "resourceVersion": meta.get("resourceVersion", ""), "fieldPath": field_path}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return {k: v for k, v in ref.items() if v}


class EventRecorder:
    def __init__(self, client: ApiClient, component: str, host: str | None = None, *, cache_size: int = 4096,
                 queue_size: int = 1000):
        self.client, self.component = client, component
        self.host = host or socket.gethostname()
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)
        self._seen: OrderedDict[tuple, tuple[str, str, int]] = OrderedDict()  # key -> (ns, name, count)
        self._cache_size = cache_size
        self._task: asyncio.Task | None = None
        self.posted = 0  # a metric

    def event(self, obj: dict, type_: str, reason: str, message: str, field_path: str = "") -> None:
        """Record an event (type_ is Normal or Warning). Returns at once."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            self._queue.put_nowait((involved_object(obj, field_path), type_, reason, message[:1024]))
        except asyncio.QueueFull:
            log.warning("event dropped (queue full): %s %s", reason, message)

    async def flush(self) -> None:
        await self._queue.join()

    async def close(self) -> None:
        if self._task:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._post(*item)
            except ApiError as e:
                # a namespace being deleted (403) or gone (404) takes its events with it
                log.log(logging.DEBUG if e.code in (403, 404) else logging.WARNING, "event post failed: %s", e)
            except Exception as e:
                log.warning("event post failed: %r", e)
            finally:
                self._queue.task_done()

    async def _post(self, ref: dict, type_: str, reason: str, message: str) -> None:
        ns = ref.get("namespace") or "default"
        key = (ref.get("uid") or ref.get("name"), ref.get("kind"), ns, ref.get("fieldPath"), type_, reason, message)
        ts = now()
        seen = self._seen.get(key)
        if seen:
            _, name, count = seen
            try:
                await self.client.patch(EVENTS, name, {"count": count + 1, "lastTimestamp": ts}, ns)
                self._seen[key] = (ns, name, count + 1)
                self._seen.move_to_end(key)
                self.posted += 1
                return
            except ApiError as e:
                if not e.not_found:
                    raise
        # upstream names events <object>.<hex nanoseconds> so names are unique and sortable
        name = f"{ref.get('name', 'unknown')}.{time.time_ns():x}"
        body = {"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": ref, "type": type_, "reason": reason, "message": message,
                "source": {"component": self.component, "host": self.host},
                "reportingComponent": self.component, "reportingInstance": self.host,
                "firstTimestamp": ts, "lastTimestamp": ts, "count": 1}
        await self.client.create(EVENTS, body, ns)
        self.posted += 1
        self._seen[key] = (ns, name, 1)
        if len(self._seen) > self._cache_size:
            self._seen.popitem(last=False)
