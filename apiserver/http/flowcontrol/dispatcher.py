"""The API server's side of APF: the current configuration (kept from a watch of the
FlowSchemas and PriorityLevelConfigurations), a queue set per limited priority level,
and admit(), which every API request passes between authentication and authorization.

As upstream's filter: long-running requests other than watches (exec, attach,
port-forward, proxy, log) are not classified; a watch holds its seat only until it is
set up (the handler returns its stream); the exempt level is never queued; a request
refused is answered 429 with Retry-After, and carries the classification headers as
every classified request does."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from apiserver.http.requestinfo import RequestInfo
from apiserver.machinery import errors
from apiserver.machinery.user import UserInfo
from apiserver.machinery.timeutil import now_time
from apiserver.registry.context import WriteContext
from apiserver.registry.options import ListOptions

from .classifier import Configuration
from .metrics import FlowMetrics
from .queueset import QueueSet, Rejected, Ticket

log = logging.getLogger("apiserver.flowcontrol")

GROUP = "flowcontrol.apiserver.k8s.io"
PF_HEADERS_KEY = "pocketkube.pf_headers"   # where admit() leaves the response headers in the ASGI scope
LONG_RUNNING = frozenset(("exec", "attach", "portforward", "proxy", "log"))
TOO_MANY = "Too many requests, please try again later."
RETRY_AFTER = 1


def dangling_condition(fs: dict, dangling: bool) -> dict:
    level = ((fs.get("spec") or {}).get("priorityLevelConfiguration") or {}).get("name", "")
    if dangling:
        return {"type": "Dangling", "status": "True", "reason": "NotFound",
                "message": f"This FlowSchema references the PriorityLevelConfiguration object named "
                           f"\"{level}\" but there is no such object"}
    return {"type": "Dangling", "status": "False", "reason": "Found",
            "message": f"This FlowSchema references the PriorityLevelConfiguration object named \"{level}\" "
                       "and it exists"}


class Held:
    """What an admitted request holds until it is done (release() once)."""
    __slots__ = ("executing", "key", "ticket")

    def __init__(self, executing: dict, key: tuple, ticket: Ticket | None):
        self.executing, self.key, self.ticket = executing, key, ticket

    def release(self) -> None:
        self.executing[self.key] -= 1
        if self.ticket is not None:
            self.ticket.release()


class FlowControl:
    def __init__(self, registries, server_seats: int):
        self.registries, self.server_seats = registries, server_seats
        self.config: Configuration | None = None
        self._sets: dict[str, tuple[tuple, QueueSet]] = {}
        self._tasks: list[asyncio.Task] = []
        self._reloading: asyncio.Task | None = None
        self._dirty = False
        self.metrics = FlowMetrics(lambda: {n: lv.seats for n, lv in self.config.levels.items() if not lv.exempt}
                                   if self.config is not None else {})

    def _store(self, plural: str):
        return self.registries.for_plural(GROUP, plural)

    async def start(self) -> None:
        revision = await self._reload()
        for plural in ("flowschemas", "prioritylevelconfigurations"):
            self._tasks.append(asyncio.create_task(self._follow(plural, revision), name=f"apf-{plural}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _reload(self) -> int:
        schemas = await self._store("flowschemas").list("", ListOptions())
        levels = await self._store("prioritylevelconfigurations").list("", ListOptions())
        config = Configuration([i.obj for i in schemas.items], [i.obj for i in levels.items], self.server_seats)
        self.apply(config)
        for item in schemas.items:
            try:
                await self._mark_dangling(item.obj, config)
            except Exception as e:   # a status not written must not stop classification
                log.warning("flowcontrol: Dangling condition of %s: %s", item.obj["metadata"]["name"], e)
        return min(schemas.resource_version, levels.resource_version)

    async def _mark_dangling(self, fs: dict, config: Configuration) -> None:
        """The Dangling condition upstream's configuration controller keeps on each FlowSchema
        (written only when it changes; its own write comes back as an event that changes nothing)."""
        name = fs["metadata"]["name"]
        wanted = dangling_condition(fs, name in config.dangling)
        current = next((c for c in (fs.get("status") or {}).get("conditions") or [] if c.get("type") == "Dangling"),
                       None)
        if current is not None and all(current.get(k) == wanted[k] for k in ("status", "reason", "message")):
            return

        async def transform(obj: dict) -> dict:
            conditions = [c for c in (obj.setdefault("status", {}).get("conditions") or [])
                          if c.get("type") != "Dangling"]
            obj["status"]["conditions"] = [*conditions, {**wanted, "lastTransitionTime": now_time()}]
            return obj
        try:
            await self._store("flowschemas").guaranteed_update("", name, transform, WriteContext(),
                                                               subresource="status", admit=False)
        except errors.StatusError as e:
            if e.code != 404:   # 404: deleted meanwhile, nothing to mark
                raise

    def apply(self, config: Configuration) -> None:
        """Use `config` from now on. A level whose queues are shaped as before keeps its queue
        set (new limit); otherwise a new set takes new requests and the old one drains."""
        sets = {}
        for name, level in config.levels.items():
            if level.exempt:
                continue
            old = self._sets.get(name)
            if old is not None and old[0][1:] == level.shape[1:]:
                old[1].resize(level.seats)
                sets[name] = (level.shape, old[1])
            else:
                sets[name] = (level.shape, QueueSet(level))
        self._sets, self.config = sets, config

    def _changed(self) -> None:
        self._dirty = True
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.create_task(self._reload_while_dirty())

    async def _reload_while_dirty(self) -> None:
        # a change seen while a reload lists may be missing from that list: list again
        while self._dirty:
            self._dirty = False
            try:
                await self._reload()
            except Exception as e:
                log.warning("flowcontrol configuration reload: %s", e)

    async def _follow(self, plural: str, revision: int) -> None:
        store = self._store(plural)
        while True:
            stream = store.storage.watch(store.prefix, revision)
            try:
                async for ev in stream:
                    revision = max(revision, ev.kv.mod_revision)
                    if ev.type != "BOOKMARK":
                        self._changed()
            except asyncio.CancelledError:
                raise
            except Exception as e:   # compacted, storage away: start again from what is stored now
                log.warning("flowcontrol watch of %s: %s; reloading", plural, e)
            finally:
                with contextlib.suppress(Exception):
                    await stream.aclose()
            # the stream ended (the store closing, or dropped as too slow): never spin on it
            await asyncio.sleep(1)
            with contextlib.suppress(Exception):
                revision = await self._reload()

    async def admit(self, scope, user: UserInfo, info: RequestInfo) -> Held | None:
        """Classify the request and wait for its seat; raises a 429 StatusError when refused.
        None: not subject to APF (long-running, or no configuration yet)."""
        config = self.config
        if config is None or (info.subresource in LONG_RUNNING and info.verb != "watch"):
            return None
        c = config.classify(user, info)
        if c is None:
            return None
        scope[PF_HEADERS_KEY] = c.schema.headers
        level, m = c.level, self.metrics
        key = (level.name, c.schema.name)
        executing = m.executing.values
        if level.exempt:
            m.dispatched.values[key] = m.dispatched.values.get(key, 0) + 1
            executing[key] = executing.get(key, 0) + 1
            return Held(executing, key, None)
        qs = self._sets[level.name][1]
        inqueue = m.inqueue.values
        # counted as queued around the call: a seat given at once never yields to the loop,
        # so no scrape sees it queued
        inqueue[key] = inqueue.get(key, 0) + 1
        try:
            ticket = await qs.acquire(c.flow_hash)
        except Rejected as r:
            m.rejected.inc((*key, r.reason))
            raise errors.too_many_requests(TOO_MANY, retry_after=RETRY_AFTER) from None
        except asyncio.CancelledError:
            m.rejected.inc((*key, "cancelled"))
            raise
        finally:
            inqueue[key] -= 1
        m.dispatched.values[key] = m.dispatched.values.get(key, 0) + 1
        executing[key] = executing.get(key, 0) + 1
        if ticket.waited:
            m.wait.observe((*key, "true"), ticket.waited)
        return Held(executing, key, ticket)
