"""Podman's heavy calls (pod and container create and start) let through a few at a time,
the pod that came first served first.

With 30 pods starting at once, every one of their calls went to Podman together: 30 sandbox
creates, then 30 sandbox starts, and only then the app containers, each step queued behind
the other pods' steps on Podman's locks and the two cores. Every pod finished near the end
(p50 close to the last). Let through a few at a time, first-come first-served by the pod's
arrival, each pod goes through its steps ahead of pods that came later, so they finish one
after another; Podman does the same work, without 30 requests contending for its locks.

A call says which pod it serves through `serving(rank)` (a context variable, so it follows
the pod worker's tasks); calls without a rank (teardown, lists) are not held.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools

RANK: contextvars.ContextVar[float | None] = contextvars.ContextVar("podman_call_rank", default=None)


def serving(rank: float) -> None:
    """Calls made from here on (in this task and tasks it starts) rank as `rank`: lower first."""
    RANK.set(rank)


class OrderedGate:
    """At most `limit` holders; waiters enter by lowest rank, then arrival."""

    def __init__(self, limit: int):
        self.limit = limit
        self.inside = 0
        self._waiting: list[tuple[float, int, asyncio.Future]] = []
        self._seq = itertools.count()

    async def acquire(self, rank: float) -> None:
        if self.inside < self.limit and not self._waiting:
            self.inside += 1
            return
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._seq), fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()   # let in just as it was cancelled: pass the place on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, fut = heapq.heappop(self._waiting)
            if not fut.done():
                fut.set_result(None)   # the place goes straight to it: `inside` stays
                return
        self.inside -= 1
