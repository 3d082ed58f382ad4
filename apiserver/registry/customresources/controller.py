"""The API server's own CRD controller (upstream runs the same loops inside
apiextensions-apiserver): for every CustomResourceDefinition it

- checks the names (NamesAccepted, or NameConflict when another CRD or a built-in
  resource of the group already uses the plural or kind),
- serves the custom resources: catalogue (routes, discovery, OpenAPI follow it),
  schema definitions, one store per served version; then reports Established,
- on deletion (the cleanup finalizer set by the CRD strategy) deletes every
  custom resource, drops the finalizer, and stops serving once the CRD is gone.

It reads CRDs from the store's watch, so every API server of a cluster serves
what any of them was told.
"""
from __future__ import annotations

import asyncio
import logging

import orjson

from openapi.catalogue import Catalogue

from apiserver.machinery import bytefields, errors, schemas
from apiserver.registry.context import WriteContext
from apiserver.registry.customresources import definitions
from apiserver.registry.customresources.apiservices import sync_crd_apiservices
from apiserver.registry.customresources.conversion import TIMEOUT_SECONDS, WebhookConverter
from apiserver.registry.customresources.strategy import CustomResourceStrategy
from apiserver.registry.options import DeleteOptions, ListOptions
from apiserver.registry.resources.customresourcedefinitions import CLEANUP_FINALIZER, set_condition
from apiserver.storage.interface import CompactedError, UnavailableError

log = logging.getLogger("apiserver.crd")

GROUP, PLURAL = "apiextensions.k8s.io", "customresourcedefinitions"


class CRDController:
    def __init__(self, registries, catalogue: Catalogue):
        self.registries = registries
        self.catalogue = catalogue
        self.crds = registries.for_plural(GROUP, PLURAL)
        # CRD name -> (group, plural, definition names, the spec served)
        self._served: dict[str, tuple[str, str, list[str], dict]] = {}
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._retry: set[str] = set()
        self._converters: dict[str, WebhookConverter] = {}   # CRD name -> its webhook's client

    async def start(self) -> None:
        """Serve what the store holds now, then follow changes in the background."""
        page = await self.crds.list("", ListOptions())
        for item in page.items:
            await self._reconcile_safely(item.obj)
        await sync_crd_apiservices(self.registries, self.catalogue)  # drops those of CRDs gone meanwhile
        self._task = asyncio.create_task(self._follow(page.resource_version), name="crd-controller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def _follow(self, revision: int) -> None:
        while True:
            stream = self.crds.storage.watch(self.crds.prefix, revision)
            try:
                while True:
                    try:
                        ev = await asyncio.wait_for(stream.__anext__(), timeout=1.0 if self._retry else None)
                    except asyncio.TimeoutError:
                        await self._retry_pending()
                        continue
                    if ev.type == "BOOKMARK":
                        continue
                    revision = ev.kv.mod_revision
                    obj = orjson.loads(ev.kv.value)
                    if ev.type == "DELETED":
                        self._stop_serving(obj["metadata"]["name"])
                        await self._recheck_waiting()
                        await sync_crd_apiservices(self.registries, self.catalogue)
                    else:
                        await self._reconcile_safely(obj)
            except StopAsyncIteration:
                pass
            except CompactedError:
                page = await self.crds.list("", ListOptions())
                revision = page.resource_version
                for item in page.items:
                    await self._reconcile_safely(item.obj)
            except asyncio.CancelledError:
                raise
            except UnavailableError as e:  # storage away or closing (shutdown): no traceback
                log.warning("CRD watch: %s; retrying", e)
                await asyncio.sleep(1)
            except Exception:  # keep serving: a bug here must not end CRD handling
                log.exception("CRD watch failed; restarting it")
                await asyncio.sleep(1)
            finally:
                await stream.aclose()

    async def _recheck_waiting(self) -> None:
        """A CRD gone may free the names another one was refused for."""
        page = await self.crds.list("", ListOptions())
        for item in page.items:
            if item.obj["metadata"]["name"] not in self._served:
                await self._reconcile_safely(item.obj)

    async def _retry_pending(self) -> None:
        names, self._retry = self._retry, set()
        for name in names:
            current = await self.crds.get_or_none("", name)
            if current is not None:
                await self._reconcile_safely(current.obj)

    async def _reconcile_safely(self, crd: dict) -> None:
        try:
            await self._reconcile(crd)
            await sync_crd_apiservices(self.registries, self.catalogue)
        except Exception:
            log.exception("reconciling CRD %s failed", (crd.get("metadata") or {}).get("name"))
            self._retry.add((crd.get("metadata") or {}).get("name", ""))

    # --- one CRD ----------------------------------------------------------------
    async def _reconcile(self, crd: dict) -> None:
        name = crd["metadata"]["name"]
        if crd["metadata"].get("deletionTimestamp"):
            if CLEANUP_FINALIZER in (crd["metadata"].get("finalizers") or ()):
                await self._clean_up(crd)
            return
        conflict = self._name_conflict(crd)
        if conflict:
            await self._write_status(name, lambda c: set_condition(
                c, "NamesAccepted", "False", "NameConflict", conflict))
            return
        if self._served.get(name, (None,) * 4)[3] != crd["spec"]:   # status writes change nothing served
            self._serve(crd)
        spec = crd["spec"]

        def accepted(c: dict) -> None:
            c.setdefault("status", {})["acceptedNames"] = dict(spec["names"])
            set_condition(c, "NamesAccepted", "True", "NoConflicts", "no conflicts found")
            set_condition(c, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted")
        await self._write_status(name, accepted)

    def _name_conflict(self, crd: dict) -> str:
        spec = crd["spec"]
        group, names = spec["group"], spec["names"]
        for r in self.catalogue.resources():
            if r.group != group:
                continue
            owner = self._owner(r.group, r.plural)
            if owner == crd["metadata"]["name"]:
                continue
            if r.plural == names["plural"]:
                return f'"{names["plural"]}" is already in use'
            if r.kind == names["kind"]:
                return f'"{names["kind"]}" is already in use'
            taken = set(r.short_names) & set(names.get("shortNames") or ())
            if taken:
                return f'"{sorted(taken)[0]}" is already in use'
        return ""

    def _owner(self, group: str, plural: str) -> str | None:
        for name, (g, p, _, _) in self._served.items():
            if (g, p) == (group, plural):
                return name
        return None

    def _serve(self, crd: dict) -> None:
        name = crd["metadata"]["name"]
        spec = crd["spec"]
        self._unregister(name)
        defs = definitions.definitions(crd)
        schemas.add_definitions(defs)
        bytefields.byte_paths.cache_clear()
        resources = definitions.resources(crd)
        versions = {v["name"]: v for v in spec.get("versions") or ()}
        converter = None
        if (spec.get("conversion") or {}).get("strategy") == "Webhook":
            converter = self._converters[name] = WebhookConverter(crd, self._service_address)
        for r in resources:
            self.registries.install(r, CustomResourceStrategy(r, crd, versions[r.version], converter))
        self._served[name] = (spec["group"], spec["names"]["plural"], list(defs), spec)
        self.catalogue.set_extension(name, resources)

    async def _service_address(self, namespace: str, name: str) -> str | None:
        """A Service's cluster IP ('' when it has none, None when there is no such Service)."""
        services = self.registries.for_plural("", "services")
        svc = await services.get_or_none(namespace, name) if services is not None else None
        if svc is None:
            return None
        ip = (svc.obj.get("spec") or {}).get("clusterIP") or ""
        return "" if ip == "None" else ip

    def _unregister(self, name: str) -> None:
        converter = self._converters.pop(name, None)
        if converter is not None:   # its open connections go (reads in flight finish first)
            asyncio.get_running_loop().call_later(TIMEOUT_SECONDS, lambda: asyncio.ensure_future(converter.close()))
        served = self._served.pop(name, None)
        if served is None:
            return
        group, plural, defs, _ = served
        self.registries.uninstall(group, plural)
        schemas.remove_definitions(defs)

    def _stop_serving(self, name: str) -> None:
        self._unregister(name)
        self.catalogue.remove_extension(name)

    async def _write_status(self, name: str, change) -> None:
        async def transform(c: dict) -> dict:
            change(c)
            return c
        try:
            await self.crds.guaranteed_update("", name, transform, WriteContext(), subresource="status", admit=False)
        except errors.StatusError as e:
            if e.code != 404:
                raise

    async def _clean_up(self, crd: dict) -> None:
        """Delete every custom resource; once none is left, drop the finalizer."""
        name = crd["metadata"]["name"]
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        # the storage version reads its objects without asking a conversion webhook
        store = (self.registries.lookup(group, definitions.storage_version(crd), plural)
                 or self.registries.for_plural(group, plural))
        for r in self.catalogue.resources():
            if (r.group, r.plural) == (group, plural):
                served = self.registries.lookup(r.group, r.version, r.plural)
                if served is not None:
                    served.strategy.terminating = True
        if store is not None:
            page = await store.list("", ListOptions())
            for item in page.items:
                meta = item.obj["metadata"]
                try:
                    await store.delete(meta.get("namespace", ""), meta["name"], DeleteOptions(), WriteContext())
                except errors.StatusError as e:
                    if e.code != 404:
                        raise
            if (await store.list("", ListOptions(limit=1))).items:
                self._retry.add(name)  # some wait for their own finalizers
                return

        async def drop_finalizer(c: dict) -> dict:
            c["metadata"]["finalizers"] = [f for f in c["metadata"].get("finalizers") or () if f != CLEANUP_FINALIZER]
            set_condition(c, "Terminating", "True", "InstanceDeletionCompleted", "removed all instances")
            return c
        self._stop_serving(name)
        try:
            await self.crds.guaranteed_update("", name, drop_finalizer, WriteContext(), admit=False)
        except errors.StatusError as e:
            if e.code != 404:
                raise
