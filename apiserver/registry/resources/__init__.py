"""Every kind's Strategy, found by looking: each module (or package) here
defines Strategy subclasses that name the (group, plural) pairs they serve in
`serves`. Importing this package imports all of them and builds the lookup; a
resource nobody claims gets the base Strategy. Adding a kind is one new module
here (see the README, "Adding a kind")."""
from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from openapi.catalogue import Resource

from apiserver.registry.settings import RegistrySettings
from apiserver.registry.strategy import Strategy


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


def collect(classes) -> dict[tuple[str, str], type[Strategy]]:
    """(group, plural) -> class, from each class's own `serves` (not an inherited one).
    Two classes claiming one resource is a programming error."""
    found: dict[tuple[str, str], type[Strategy]] = {}
    for cls in classes:
        for key in cls.__dict__.get("serves", ()):
            if key in found and found[key] is not cls:
                raise TypeError(f"{key} is served by both {found[key].__qualname__} and {cls.__qualname__}")
            found[key] = cls
    return found


@cache
def strategy_classes() -> dict[tuple[str, str], type[Strategy]]:
    """(group, plural) -> the Strategy class serving it, from every module of this package."""
    for info in pkgutil.iter_modules(__path__, __name__ + "."):
        importlib.import_module(info.name)
    return collect(c for c in _subclasses(Strategy) if c.__module__.startswith(__name__ + "."))


def strategy_for(resource: Resource, settings: RegistrySettings = RegistrySettings()) -> Strategy:
    """A class may serve one version only ((group, version, plural) in `serves`: a
    version converted to another's storage), else every version ((group, plural))."""
    classes = strategy_classes()
    cls = classes.get((resource.group, resource.version, resource.plural)) or \
        classes.get((resource.group, resource.plural), Strategy)
    return cls(resource, settings)
