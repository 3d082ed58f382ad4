"""Watchers grouped by resource, so each committed event is offered only to the
watchers of its own resource (plus the rare watcher of a wider prefix), not to
every watcher in the process."""
from __future__ import annotations

from .interface import WatchEvent
from .keys import resource_prefix
from .stream import WatchStream


class Fanout:
    def __init__(self) -> None:
        self._by_resource: dict[str, set[WatchStream]] = {}
        self._wide: set[WatchStream] = set()   # prefixes shorter than one resource

    def add(self, w: WatchStream) -> None:
        rp = resource_prefix(w.prefix)
        if rp is None:
            self._wide.add(w)
        else:
            self._by_resource.setdefault(rp, set()).add(w)

    def discard(self, w: WatchStream) -> None:
        rp = resource_prefix(w.prefix)
        group = self._wide if rp is None else self._by_resource.get(rp)
        if group is not None:
            group.discard(w)
            if rp is not None and not group:
                del self._by_resource[rp]

    def __len__(self) -> int:
        return len(self._wide) + sum(len(g) for g in self._by_resource.values())

    def all(self) -> list[WatchStream]:
        return [*self._wide, *(w for g in self._by_resource.values() for w in g)]

    def publish(self, events: list[WatchEvent]) -> None:
        by_resource = self._by_resource
        for ev in events:
            key = ev.kv.key
            group = by_resource.get(resource_prefix(key) or "")
            if group:
                for w in list(group):
                    if key.startswith(w.prefix):
                        w.push(ev)
            if self._wide:
                for w in list(self._wide):
                    if key.startswith(w.prefix):
                        w.push(ev)
