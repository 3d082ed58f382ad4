"""All resource stores of one API server, built from the catalogue.

Other parts of the server read stored objects through this (admission plugins:
`registries.for_plural("", "namespaces").get("", "default")`), and register
what the generic store cannot do (virtual creates such as reviews, and
subresources such as pods/eviction or serviceaccounts/token).
"""
from __future__ import annotations

from openapi.catalogue import Catalogue, Resource

from apiserver.registry.componentstatus_store import ComponentStatusStore
from apiserver.registry.context import WriteContext
from apiserver.registry.objects import ObjectCache
from apiserver.registry.resources import strategy_for
from apiserver.registry.settings import RegistrySettings
from apiserver.registry.store import GenericStore
from apiserver.storage.interface import Store


class Registries:
    def __init__(self, storage: Store, catalogue: Catalogue, settings: RegistrySettings = RegistrySettings()):
        self.storage = storage
        self.catalogue = catalogue
        self.settings = settings
        shared = self._shared_cache = ObjectCache()
        self._by_gvr: dict[tuple[str, str, str], GenericStore] = {}
        self._by_plural: dict[tuple[str, str], GenericStore] = {}
        self._virtual: dict[tuple[str, str], object] = {}
        self._subresources: dict[tuple[str, str, str], object] = {}
        for r in catalogue.resources():
            if not r.stored:
                continue
            strategy = strategy_for(r, settings)
            cache = ObjectCache(64 << 20, convert=strategy.from_storage) if strategy.converts else shared
            gs = GenericStore(r, strategy, storage, cache)
            self._by_gvr[(r.group, r.version, r.plural)] = gs
            self._by_plural.setdefault((r.group, r.plural), gs)
            for name, h in strategy.subresource_handlers().items():
                self._subresources[(r.group, r.plural, name)] = h
        self._virtual[("", "bindings")] = _bind_from_bindings(self)
        self._serve_component_statuses()
        for h in self._subresources.values():  # handlers that read other resources (eviction reads budgets)
            if hasattr(h, "bind_registries"):
                h.bind_registries(self)

    # --- kinds that arrive at run time (custom resources) ---------------------
    def install(self, resource: Resource, strategy) -> GenericStore:
        """Serve `resource` with `strategy` (replacing what served it before)."""
        cache = ObjectCache(64 << 20, convert=strategy.from_storage) if strategy.converts else self._shared_cache
        gs = GenericStore(resource, strategy, self.storage, cache)
        self._by_gvr[(resource.group, resource.version, resource.plural)] = gs
        first = self._by_plural.get((resource.group, resource.plural))
        if first is None or first.resource.version == resource.version:
            self._by_plural[(resource.group, resource.plural)] = gs
        for name, h in strategy.subresource_handlers().items():
            self._subresources[(resource.group, resource.plural, name)] = h
        return gs

    def uninstall(self, group: str, plural: str) -> None:
        """Stop serving every version of group/plural."""
        for key in [k for k in self._by_gvr if (k[0], k[2]) == (group, plural)]:
            del self._by_gvr[key]
        self._by_plural.pop((group, plural), None)
        for key in [k for k in self._subresources if (k[0], k[1]) == (group, plural)]:
            del self._subresources[key]

    # --- lookup -------------------------------------------------------------
    def for_resource(self, resource: Resource) -> GenericStore:
        return self._by_gvr[(resource.group, resource.version, resource.plural)]

    def lookup(self, group: str, version: str, plural: str) -> GenericStore | None:
        return self._by_gvr.get((group, version, plural))

    def for_plural(self, group: str, plural: str) -> GenericStore | None:
        """The store of a resource by group and plural (its first served version)."""
        return self._by_plural.get((group, plural))

    def __iter__(self):
        return iter(self._by_gvr.values())

    def _serve_component_statuses(self) -> None:
        """componentstatuses are computed on each read, never stored."""
        for key, gs in list(self._by_gvr.items()):
            if (gs.resource.group, gs.resource.plural) == ("", "componentstatuses"):
                cs = ComponentStatusStore(gs, self._by_plural.get(("coordination.k8s.io", "leases")))
                self._by_gvr[key] = cs
                self._by_plural[("", "componentstatuses")] = cs

    # --- extension points -----------------------------------------------------
    def register_virtual(self, group: str, plural: str, create) -> None:
        """`async create(namespace, body, ctx: WriteContext) -> (code, dict)` for a
        create-only resource (SelfSubjectAccessReview, TokenReview...)."""
        self._virtual[(group, plural)] = create

    def virtual(self, group: str, plural: str):
        return self._virtual.get((group, plural))

    def register_subresource(self, group: str, plural: str, name: str, handler) -> None:
        """A handler with some of `get(store, ns, name)`, `update(store, ns, name,
        body, ctx)`, `create(store, ns, name, body, ctx) -> (code, dict)`."""
        self._subresources[(group, plural, name)] = handler

    def subresource(self, group: str, plural: str, name: str):
        return self._subresources.get((group, plural, name))


def _bind_from_bindings(registries: Registries):
    async def create(namespace: str, body: dict, ctx: WriteContext) -> tuple[int, dict]:
        pods = registries.for_plural("", "pods")
        handler = registries.subresource("", "pods", "binding")
        name = (body.get("metadata") or {}).get("name", "")
        return await handler.create(pods, namespace, name, body, ctx)
    return create
