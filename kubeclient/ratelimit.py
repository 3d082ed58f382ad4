"""How long to wait before retrying an item: pure arithmetic, clock injected.

Like client-go's default controller rate limiter, the delay for an item is the
larger of its own exponential back-off (5 ms doubling to 1000 s) and what an
overall token bucket (10 per second, burst 100) allows, so one failing item
backs off alone while a storm of failures cannot flood the API server.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class ItemBackoff:
    def __init__(self, base: float = 0.005, cap: float = 1000.0):
        self.base, self.cap = base, cap
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        n = self._failures.get(item, 0)
        self._failures[item] = n + 1
        return min(self.base * (2 ** n), self.cap)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def retries(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class TokenBucket:
    """Reserves tokens ahead of time; returns how long the caller must wait for its token."""

    def __init__(self, rate: float = 10.0, burst: int = 100, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens = float(burst)
        self._last = clock()

    def reserve(self) -> float:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class ControllerRateLimiter:
    def __init__(self, backoff: ItemBackoff | None = None, bucket: TokenBucket | None = None):
        self.backoff = backoff or ItemBackoff()
        self.bucket = bucket or TokenBucket()

    def when(self, item: Hashable) -> float:
        return max(self.backoff.when(item), self.bucket.reserve())

    def forget(self, item: Hashable) -> None:
        self.backoff.forget(item)

    def retries(self, item: Hashable) -> int:
        return self.backoff.retries(item)
