"""What the proxy's table holds, kept per service port (pure).

With 10,000 services, building every ServicePort and rendering the whole table on
each sync costs about a second of Python before nft even runs. `Programmed` keeps
each service port's rendering, so a sync renders only the ports that changed and
hands `transaction()` just their before and after: one changed EndpointSlice
gives a transaction of a few lines, computed in milliseconds.

Map elements may be shared: a pod behind two Services is one hairpin element.
Each element remembers which service ports want it and is deleted only when
none does.
"""
from __future__ import annotations

from collections.abc import Iterable

from .model import ServicePort
from .rules import Config, Desired, empty, render_port


class Programmed:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.parts: dict[str, tuple[ServicePort, Desired]] = {}     # ServicePort.key -> (it, its rendering)
        self.owners: dict[tuple[str, str], dict[str, str]] = {}    # (map, element) -> {port key: value}

    def desired(self) -> Desired:
        """The whole table (for a rebuild)."""
        d = empty()
        for _, part in self.parts.values():
            d.chains.update(part.chains)
            d.sets.update(part.sets)
        for (name, element), owners in self.owners.items():
            d.maps[name][element] = _value(owners)
        return d

    def update(self, ports: Iterable[ServicePort]) -> tuple[Desired, Desired]:
        """Take the state to exactly `ports`; returns (before, after) holding only what
        changed, for transaction(before, after)."""
        before, after = empty(), empty()
        seen = set()
        for sp in ports:
            seen.add(sp.key)
            old = self.parts.get(sp.key)
            if old is not None and (old[0] is sp or old[0] == sp):
                continue
            part = empty()
            render_port(sp, self.cfg, part)
            self._replace(sp.key, old[1] if old else None, part, before, after)
            self.parts[sp.key] = (sp, part)
        for key in [k for k in self.parts if k not in seen]:
            self._replace(key, self.parts.pop(key)[1], None, before, after)
        return before, after

    def _replace(self, key: str, old: Desired | None, new: Desired | None, before: Desired, after: Desired) -> None:
        touched = set()
        for part, into in ((old, before), (new, after)):
            if part is None:
                continue
            into.chains.update(part.chains)
            into.sets.update(part.sets)
            touched.update((name, element) for name, items in part.maps.items() for element in items)
        for name, element in touched:
            owners = dict(self.owners.get((name, element), {}))
            was = _value(owners)
            owners.pop(key, None)
            if new is not None and element in new.maps[name]:
                owners[key] = new.maps[name][element]
            now = _value(owners)
            if owners:
                self.owners[(name, element)] = owners
            else:
                self.owners.pop((name, element), None)
            if was is not None:
                before.maps[name][element] = was
            if now is not None:
                after.maps[name][element] = now


def _value(owners: dict[str, str]) -> str | None:
    """The latest owner's value (two owners of one element normally agree)."""
    return next(reversed(owners.values()), None) if owners else None
