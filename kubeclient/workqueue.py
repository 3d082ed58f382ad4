"""A work queue of keys for controllers, with the guarantees client-go gives.

- A key queued twice is processed once (dedup of waiting keys).
- A key is never processed by two workers at once: adding a key that is being
  processed marks it dirty, and it is queued again when `done` is called.
- `add_after` delays a key; `add_rate_limited` delays it by the rate limiter
  (per-key exponential back-off and an overall rate); `forget` resets the back-off.
"""
from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Hashable

from . import metrics
from .ratelimit import ControllerRateLimiter

_QUEUES: weakref.WeakSet = weakref.WeakSet()   # the live queues, for workqueue_depth at scrape time
_ADDS = metrics.counter("workqueue_adds_total", "Total number of adds handled by workqueue", ("name",))
_DEPTH = metrics.gauge("workqueue_depth", "Current depth of workqueue", ("name",),
                       read=lambda: {(q.name,): len(q) for q in list(_QUEUES)})
_WORK = metrics.histogram("workqueue_work_duration_seconds",
                          "How long in seconds processing an item from workqueue takes.", ("name",),
                          tuple(1e-8 * 10 ** i for i in range(10)))
_WAIT = metrics.histogram("workqueue_queue_duration_seconds",
                          "How long in seconds an item stays in workqueue before being requested.", ("name",),
                          tuple(1e-8 * 10 ** i for i in range(10)))


class ShutDown(Exception):
    pass


class WorkQueue:
    def __init__(self, rate_limiter: ControllerRateLimiter | None = None, name: str = ""):
        self.name = name
        self.rate_limiter = rate_limiter or ControllerRateLimiter()
        self._queue: deque = deque()
        self._dirty: set = set()
        self._processing: set = set()
        self._waiting: dict[Hashable, asyncio.TimerHandle] = {}
        self._getters: deque[asyncio.Future] = deque()  # workers waiting for a key
        self._shutting_down = False
        self.adds = 0  # a metric: keys added since start
        self._started: dict[Hashable, float] = {}   # key -> when get() handed it out
        self._queued: dict[Hashable, float] = {}    # key -> when it entered the queue (for its wait)
        _QUEUES.add(self)

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, item: Hashable) -> None:
        if self._shutting_down or item in self._dirty:
            return
        self.adds += 1
        _ADDS.values[(self.name,)] = _ADDS.values.get((self.name,), 0) + 1
        self._dirty.add(item)
        if item in self._processing:
            return  # re-queued by done()
        self._queue.append(item)
        self._queued[item] = time.perf_counter()
        self._notify()

    def _notify(self) -> None:
        while self._getters:
            fut = self._getters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    def add_after(self, item: Hashable, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        timer = self._waiting.get(item)
        if timer is not None:
            if timer.when() <= due:
                return  # an earlier wake-up is already scheduled
            timer.cancel()

        def fire():
            self._waiting.pop(item, None)
            self.add(item)
        self._waiting[item] = loop.call_at(due, fire)

    def add_rate_limited(self, item: Hashable) -> None:
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: Hashable) -> None:
        self.rate_limiter.forget(item)

    def retries(self, item: Hashable) -> int:
        return self.rate_limiter.retries(item)

    async def get(self) -> Hashable:
        while not self._queue:
            if self._shutting_down:
                raise ShutDown()
            fut = asyncio.get_running_loop().create_future()
            self._getters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._notify()  # pass the wake-up on to another worker
                raise
        item = self._queue.popleft()
        self._processing.add(item)
        self._dirty.discard(item)
        now = self._started[item] = time.perf_counter()
        queued = self._queued.pop(item, None)
        if queued is not None:
            _WAIT.observe((self.name,), now - queued)
        return item

    def done(self, item: Hashable) -> None:
        self._processing.discard(item)
        started = self._started.pop(item, None)
        if started is not None:
            _WORK.observe((self.name,), time.perf_counter() - started)
        if item in self._dirty:
            self._queue.append(item)
            self._queued[item] = time.perf_counter()
            self._notify()

    def shutdown(self) -> None:
        self._shutting_down = True
        for timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        while self._getters:
            fut = self._getters.popleft()
            if not fut.done():
                fut.set_result(None)
