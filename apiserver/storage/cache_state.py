"""The in-memory state of one resource in the watch cache: current key-values in
key order plus a ring of recent events. Pure data structure, no I/O, no asyncio:
CachedStore (cache.py) feeds it from one backend watch.

Revisions: `revision` is the newest revision the state is known to reflect
(raised by events and by progress bookmarks); `last_event_revision` the newest
event applied. The state is the store's exact state at every revision in
[last_event_revision, revision]. The ring holds every event with a revision
greater than `window_start`.
"""
from __future__ import annotations

import bisect
import collections

from .interface import KeyValue, WatchEvent
from .keys import prefix_end


class ResourceState:
    def __init__(self, prefix: str, items: list[KeyValue], revision: int, window: int = 10_000):
        self.prefix = prefix
        self.items: dict[str, KeyValue] = {kv.key: kv for kv in items}
        self.keys: list[str] = sorted(self.items)
        self.revision = revision
        self.last_event_revision = revision
        self.window_start = revision
        self._window = window
        self.events: collections.deque[WatchEvent] = collections.deque()

    def apply(self, ev: WatchEvent) -> None:
        """Apply one change (events arrive in revision order)."""
        key = ev.kv.key
        if ev.type == "DELETED":
            if self.items.pop(key, None) is not None:
                i = bisect.bisect_left(self.keys, key)
                if i < len(self.keys) and self.keys[i] == key:
                    del self.keys[i]
        else:
            if key not in self.items:
                bisect.insort(self.keys, key)
            self.items[key] = ev.kv
        rev = ev.kv.mod_revision
        self.last_event_revision = rev
        if rev > self.revision:
            self.revision = rev
        self.events.append(ev)
        while len(self.events) > self._window:
            self.window_start = self.events.popleft().kv.mod_revision

    def progress(self, revision: int) -> None:
        """Nothing changed under the prefix up to `revision`."""
        if revision > self.revision:
            self.revision = revision

    def can_serve_at(self, revision: int) -> bool:
        return self.last_event_revision <= revision <= self.revision

    def list(self, prefix: str, limit: int, start_key: str | None) -> tuple[list[KeyValue], bool, int]:
        """(items, more, remaining) under prefix from start_key (inclusive)."""
        lo = prefix if start_key is None or start_key < prefix else start_key
        i = bisect.bisect_left(self.keys, lo)
        j = bisect.bisect_left(self.keys, prefix_end(prefix), i)
        if limit > 0 and j - i > limit:
            return [self.items[k] for k in self.keys[i:i + limit]], True, j - i - limit
        return [self.items[k] for k in self.keys[i:j]], False, 0

    def events_after(self, revision: int, prefix: str) -> list[WatchEvent]:
        """Ring events under prefix newer than revision (revision >= window_start)."""
        ev = self.events
        # Watches mostly start near the head: walk back from the newest event.
        n = len(ev)
        i = n
        while i > 0 and ev[i - 1].kv.mod_revision > revision:
            i -= 1
        out = []
        for k in range(i, n):
            e = ev[k]
            if e.kv.key.startswith(prefix):
                out.append(e)
        return out
