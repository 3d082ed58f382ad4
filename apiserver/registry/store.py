"""The generic resource store: the rules every resource shares.

One GenericStore per served resource. It turns API verbs into Store calls:
metadata the server owns (uid, creationTimestamp, generation, resourceVersion),
optimistic concurrency, defaulting, validation and admission at the right
points, dry run, and the cached encoding of what it reads. What differs per
kind lives in the resource's Strategy (strategy.py, resources/).
"""
from __future__ import annotations

import asyncio
import functools
import random
import string
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import orjson

from openapi.catalogue import Resource

from apiserver.machinery import errors
from apiserver.machinery import fields as field_selectors, labels as label_selectors
from apiserver.machinery.managedfields import writes as managed_fields
from apiserver.registry.attributes import Attributes
from apiserver.registry.context import WriteContext
from apiserver.registry.objects import (ObjectCache, StoredObject, encode_for_store, new_uid,
                                        now_rfc3339)
from apiserver.registry.options import LATEST, ListOptions, decode_continue, encode_continue, parse_resource_version
from apiserver.registry.strategy import Strategy
from apiserver.storage.interface import (CompactedError, FutureRevisionError, KeyExistsError,
                                         KeyNotFoundError, KeyValue, RevisionConflictError, Store,
                                         UnavailableError, ValueTooLargeError)


@dataclass(slots=True)
class ListPage:
    items: list[StoredObject]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None


class _DryRunResult(Exception):
    """Carries a dry-run answer out of the read-modify-write loop."""

    def __init__(self, answer: StoredObject):
        self.answer = answer


class GenericStore:
    def __init__(self, resource: Resource, strategy: Strategy, storage: Store, cache: ObjectCache):
        self.resource = resource
        self.strategy = strategy
        self.storage = storage
        self.cache = cache
        self.prefix = f"/registry/{resource.storage_name}/"
        # The selectable fields of the last few objects matched, by identity: a watch event
        # is matched by every watcher with a field selector in turn (each kubelet's watch
        # of its pods), each against the object and its previous version.
        self._fields_memo: dict[int, tuple[dict, dict]] = {}

    # --- keys ---------------------------------------------------------------
    def key(self, namespace: str, name: str) -> str:
        if self.resource.namespaced:
            return f"{self.prefix}{namespace}/{name}"
        return self.prefix + name

    def list_prefix(self, namespace: str) -> str:
        if self.resource.namespaced and namespace:
            return f"{self.prefix}{namespace}/"
        return self.prefix

    def not_found(self, name: str) -> errors.StatusError:
        return errors.not_found(self.resource.group, self.resource.plural, name)

    def _kind_matches(self, obj: dict) -> bool:
        return obj.get("kind") == self.resource.kind

    # --- conversion that needs I/O (conversion webhooks) ---------------------
    async def resolve(self, items: list[StoredObject], as_list: bool = False) -> list[StoredObject]:
        """Convert what was read before anyone looks at it, many objects in one call
        (a no-op for kinds that convert synchronously)."""
        if self.strategy.converts_async and items:
            await self.strategy.resolve(items, as_list)
        return items

    async def _to_storage(self, obj: dict) -> dict:
        if self.strategy.converts_async:
            return await self.strategy.to_storage_async(obj)
        return self.strategy.to_storage(obj)

    # --- reading ------------------------------------------------------------
    async def get(self, namespace: str, name: str, resource_version: str = "") -> StoredObject:
        """resource_version as a GET's query gives it: "" the current object; "0" any version
        this server has (its watch cache); N one not older than N (504 when N is in the future)."""
        key = self.key(namespace, name)
        if resource_version:
            rv = parse_resource_version(resource_version)
            try:
                kv = await _guard(self.storage.get_not_older_than(key, rv))
            except FutureRevisionError as e:
                raise errors.timeout(f"Too large resource version: {e.requested}, current: {e.current}")
        else:
            kv = await _guard(self.storage.get(key))
        if kv is None:
            raise self.not_found(name)
        return (await self.resolve([self.cache.get(kv)]))[0]

    async def get_or_none(self, namespace: str, name: str) -> StoredObject | None:
        kv = await _guard(self.storage.get(self.key(namespace, name)))
        return (await self.resolve([self.cache.get(kv)]))[0] if kv is not None else None

    def selection(self, opts: ListOptions):
        """(label selector, field selector) as predicates, or None when empty.
        400 for a field this kind cannot select on."""
        lsel = _parse(label_selectors.parse_label_selector, opts.label_selector) if opts.label_selector else None
        if lsel is not None and lsel.empty:
            lsel = None
        fsel = None
        if opts.field_selector:
            fsel = _parse(field_selectors.parse_field_selector, opts.field_selector)
            if fsel.empty:
                return lsel, None
            supported = self.strategy.supported_fields()
            for f in (r.field for r in fsel.requirements):
                if f not in supported:
                    raise errors.bad_request(_unsupported_field(self.resource, f, supported))
        return lsel, fsel

    def matches(self, obj: dict, lsel, fsel) -> bool:
        if lsel is not None and not lsel.matches((obj.get("metadata") or {}).get("labels") or {}):
            return False
        if fsel is not None and not fsel.matches(self._fields(obj)):
            return False
        return True

    def _fields(self, obj: dict) -> dict:
        memo = self._fields_memo
        hit = memo.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        if len(memo) >= 4:
            memo.clear()
        fields = self.strategy.fields(obj)
        memo[id(obj)] = (obj, fields)  # the object is held, so its id is not reused meanwhile
        return fields

    async def list(self, namespace: str, opts: ListOptions) -> ListPage:
        prefix = self.list_prefix(namespace)
        lsel, fsel = self.selection(opts)
        # As upstream (api-concepts, "Semantics for get and list"): no resourceVersion, the
        # newest state; a continue token, its snapshot; "0", any state this server has (the
        # watch cache's); N with NotOlderThan (or no match and no limit), a state not older
        # than N; N with Exact (or no match but a limit, the legacy rule), exactly N.
        revision, start, not_older_than = 0, None, None
        if opts.continue_token:
            revision, start = decode_continue(opts.continue_token, prefix)
            revision = max(revision, 0)  # LATEST: the newest revision
        elif opts.resource_version:
            rv = parse_resource_version(opts.resource_version)
            match = opts.resource_version_match
            if rv and (match == "Exact" or (not match and opts.limit)):
                revision = rv
            else:
                not_older_than = rv
        items: list[StoredObject] = []
        filtering = lsel is not None or fsel is not None
        while True:
            want = opts.limit - len(items) if opts.limit else 0
            try:
                if not_older_than is not None:   # the first page; the next ones are at its revision
                    res = await _guard(self.storage.list_not_older_than(prefix, not_older_than, limit=want,
                                                                        start_key=start))
                    not_older_than = None
                else:
                    res = await _guard(self.storage.list(prefix, limit=want, start_key=start, revision=revision))
            except CompactedError:
                if opts.continue_token:
                    raise errors.continue_expired(encode_continue(LATEST, start, prefix) if start else None)
                raise errors.gone(f"The resourceVersion for the provided list is too old.")
            except FutureRevisionError as e:
                raise errors.timeout(f"Too large resource version: {e.requested}, current: {e.current}")
            revision = res.revision
            for so in await self.resolve([self.cache.get(kv) for kv in res.items], as_list=True):
                # an object the cache has let go of is not left decoded by the selector
                if not filtering or self.matches(so.obj if self.cache.holds(so) else so.transient_obj(),
                                                 lsel, fsel):
                    items.append(so)
            if not res.more:
                return ListPage(items, revision)
            start = res.items[-1].key + "\x00"
            if opts.limit and len(items) >= opts.limit:
                return ListPage(items, revision, encode_continue(revision, start, prefix),
                                None if filtering else res.remaining)

    # --- create -------------------------------------------------------------
    async def create(self, namespace: str, obj: dict, ctx: WriteContext) -> StoredObject:
        r = self.resource
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        self._check_namespace(meta, namespace)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = _generate_name(meta["generateName"])
        for f in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(f, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now_rfc3339()
        if self.strategy.has_spec:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        obj["apiVersion"], obj["kind"] = r.api_version, r.kind
        self.strategy.prepare_for_create(obj)
        self.strategy.defaults(obj)
        # ownership is recorded before admission, as upstream: admission-added fields belong to no one
        await _record_managed_fields(r, obj, None, operation="CREATE", options=ctx.options, subresource="")
        attrs = Attributes("CREATE", r, "", namespace, meta.get("name", ""), obj, None, ctx.user,
                           ctx.dry_run, ctx.options)
        await ctx.mutate(attrs)
        obj = attrs.object
        name = (obj.get("metadata") or {}).get("name", "")
        causes = self.strategy.check_create(obj)
        if causes:
            raise errors.invalid(r.group, r.kind, name, causes)
        await ctx.validate(attrs)
        ctx.warnings.extend(attrs.warnings)
        await self.strategy.before_create(self, obj, ctx.dry_run)
        key = self.key(namespace, name)
        stored = await self._to_storage(obj)
        raw = encode_for_store(stored)
        if ctx.dry_run:
            if await _guard(self.storage.get(key)) is not None:
                raise errors.already_exists(r.group, r.plural, name)
            return await self._dry_run_answer(key, stored, obj)
        try:
            rev = await _guard(self.storage.create(key, raw))
        except KeyExistsError:
            await self.strategy.after_delete(self, obj)  # give back what before_create took
            raise errors.already_exists(r.group, r.plural, name) from None
        return await self._written(key, rev, raw, obj)

    async def _written(self, key: str, rev: int, raw: bytes, obj: dict) -> StoredObject:
        """What a write answers (and the cache keeps): `obj`, or for kinds that answer
        from storage, the stored bytes read back in this version."""
        if not self.strategy.answers_from_storage:
            return self.cache.put(key, rev, raw, obj)
        return (await self.resolve([self.cache.get(KeyValue(key, raw, rev, rev))]))[0]

    async def _dry_run_answer(self, key: str, stored: dict, obj: dict) -> StoredObject:
        """A dry run answers what a write would: for kinds that answer from storage, the
        stored form read back (upstream's dry run encodes and decodes it too), its
        resourceVersion kept."""
        if not self.strategy.answers_from_storage:
            return StoredObject(key, 0, b"", obj)
        convert = None if self.strategy.converts_async else self.strategy.from_storage
        return (await self.resolve([StoredObject(key, 0, orjson.dumps(stored), convert=convert)]))[0]

    def _check_namespace(self, meta: dict, namespace: str) -> None:
        if self.resource.namespaced:
            ons = meta.get("namespace")
            if ons and namespace and ons != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)

    # --- update -------------------------------------------------------------
    async def update(self, namespace: str, name: str, new_obj: dict, ctx: WriteContext,
                     subresource: str = "") -> tuple[StoredObject, bool]:
        """PUT. Returns (stored, created)."""
        meta = new_obj.get("metadata")
        if not isinstance(meta, dict):
            meta = new_obj["metadata"] = {}
        if meta.get("name", name) != name:
            raise errors.bad_request(f"the name of the object ({meta.get('name')}) does not match the name on "
                                     f"the URL ({name})")
        meta["name"] = name
        self._check_namespace(meta, namespace)
        rv = meta.get("resourceVersion") or ""
        expected = parse_resource_version(rv) if rv else None
        if expected is None and not self.strategy.allow_unconditional_update:
            raise errors.invalid(self.resource.group, self.resource.kind, name, [errors.Cause(
                "FieldValueInvalid", "Invalid value: 0x0: must be specified for an update",
                "metadata.resourceVersion")])

        async def transform(old: dict) -> dict:
            if expected is not None and old["metadata"].get("resourceVersion") != rv:
                raise errors.stale_update(self.resource.group, self.resource.plural, name)
            return orjson.loads(orjson.dumps(new_obj))

        try:
            return await self.guaranteed_update(namespace, name, transform, ctx, subresource=subresource), False
        except errors.StatusError as e:
            if (e.code != 404 or not self.strategy.allow_create_on_update or subresource
                    or expected is not None):
                raise
        return await self.create(namespace, new_obj, ctx), True

    async def guaranteed_update(self, namespace: str, name: str, transform, ctx: WriteContext,
                                subresource: str = "", operation: str = "UPDATE",
                                admit: bool = True) -> StoredObject:
        """The read-modify-write loop every update, patch and subresource write
        goes through. `transform(old: dict) -> dict` computes the wanted object
        from a private copy of the current one; it may run more than once.
        subresource "delete" is the deletion marking (deletion metadata kept,
        no update admission: the DELETE was admitted already)."""
        if subresource == "delete":
            admit = False
        r = self.resource
        key = self.key(namespace, name)
        result: dict = {}

        async def mutate(kv) -> bytes | None:
            current = (await self.resolve([self.cache.get(kv)]))[0]
            old = current.copy()
            new = await transform(current.copy())
            new = self._prepare_update(new, old, subresource)
            await _record_managed_fields(r, new, old, operation=operation, options=ctx.options,
                                         subresource=subresource)  # before admission, as upstream
            if admit:
                attrs = Attributes("UPDATE", r, subresource, namespace, name, new, old, ctx.user,
                                   ctx.dry_run, ctx.options)
                await ctx.mutate(attrs)
                new = attrs.object
                # binding writes spec.nodeName, which pod update validation forbids
                causes = self.strategy.check_update(new, old) if subresource != "binding" else []
                if causes:
                    raise errors.invalid(r.group, r.kind, name, causes)
                await ctx.validate(attrs)
                ctx.warnings.extend(attrs.warnings)
            # a value read with an old encryption key is written again even when
            # unchanged, as upstream does, so rewriting objects rotates their key
            if _same_ignoring_rv(new, old) and not getattr(kv, "stale", False):
                result["unchanged"] = current
                return None
            await self.strategy.before_update(self, new, old, ctx.dry_run)
            stored = await self._to_storage(new)
            if ctx.dry_run:
                raise _DryRunResult(await self._dry_run_answer(key, stored, new))
            result["obj"] = new
            result["old"] = old
            return encode_for_store(stored)

        try:
            written = await _guard(self.storage.guaranteed_update(key, mutate))
        except KeyNotFoundError:
            raise self.not_found(name) from None
        except RevisionConflictError:
            raise errors.stale_update(r.group, r.plural, name) from None
        except _DryRunResult as d:
            return d.answer
        if written is None:
            return result["unchanged"]
        rev, raw = written
        stored = await self._written(key, rev, raw, result["obj"])
        if _finalized(stored.obj, result["old"]):
            # the last finalizer of an object being deleted is gone: delete it now
            from apiserver.registry.deletion import delete_now
            return await delete_now(self, namespace, name, stored, ctx)
        return stored

    def _prepare_update(self, new: dict, old: dict, subresource: str) -> dict:
        r = self.resource
        nm = new.get("metadata")
        if not isinstance(nm, dict):
            nm = new["metadata"] = {}
        om = old["metadata"]
        new["apiVersion"], new["kind"] = r.api_version, r.kind
        nm["name"] = om["name"]
        nm.pop("selfLink", None)
        if r.namespaced:
            nm["namespace"] = om.get("namespace", "")
        if not nm.get("uid"):
            nm["uid"] = om.get("uid")
        elif nm["uid"] != om.get("uid"):
            raise errors.invalid(r.group, r.kind, nm.get("name", ""), [errors.Cause(
                "FieldValueInvalid", f'Invalid value: "{nm["uid"]}": field is immutable', "metadata.uid")])
        kept = ("creationTimestamp",) if subresource == "delete" else (
            "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")
        for f in kept:
            if f in om:
                nm[f] = om[f]
            else:
                nm.pop(f, None)
        if subresource == "status":
            self.strategy.prepare_for_status_update(new, old)
        elif not subresource:
            self.strategy.prepare_for_update(new, old)
        gen = om.get("generation")
        if gen is not None:
            nm["generation"] = gen + 1 if self.strategy.spec_changed(new, old) else gen
        else:
            nm.pop("generation", None)
        self.strategy.defaults(new)
        return new

    # --- delete (deletion.py holds the rules) --------------------------------
    async def delete(self, namespace: str, name: str, options, ctx: WriteContext):
        from apiserver.registry.deletion import delete
        return await delete(self, namespace, name, options, ctx)

    async def delete_collection(self, namespace: str, list_opts: ListOptions, options, ctx: WriteContext):
        from apiserver.registry.deletion import delete_collection
        return await delete_collection(self, namespace, list_opts, options, ctx)

    # --- watch (watching.py) --------------------------------------------------
    def watch(self, namespace: str, opts: ListOptions):
        from apiserver.registry.watching import WatchStream
        return WatchStream(self, namespace, opts)


def _generate_name(base: str) -> str:
    # upstream: base (truncated to leave room) + 5 random lowercase alphanumerics
    base = base[:58]
    return base + "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))


def _same_ignoring_rv(new: dict, old: dict) -> bool:
    nrv = new["metadata"].pop("resourceVersion", None)
    orv = old["metadata"].pop("resourceVersion", None)
    same = new == old
    if nrv is not None:
        new["metadata"]["resourceVersion"] = nrv
    if orv is not None:
        old["metadata"]["resourceVersion"] = orv
    return same


def _finalized(new: dict, old: dict) -> bool:
    nm, om = new["metadata"], old["metadata"]
    return (not nm.get("finalizers") and bool(om.get("finalizers")) and "deletionTimestamp" in nm
            and nm.get("deletionGracePeriodSeconds", 0) == 0)


def _parse(parse, text: str):
    """A label or field selector; a malformed one is a 400."""
    try:
        return parse(text)
    except label_selectors.SelectorError as e:
        raise errors.bad_request(e.message) from None


def _unsupported_field(resource: Resource, field: str, supported) -> str:
    """Upstream words it one way for core/v1 kinds, another for the rest."""
    if resource.group == "":
        return field_selectors.field_label_not_supported(field)
    return field_selectors.not_a_known_field_selector(field, supported)


async def _record_managed_fields(resource: Resource, new: dict, old: dict | None, *, operation: str,
                                 options: dict, subresource: str) -> None:
    """Called once for every object about to be written (create, update, patch,
    status, delete-marking): metadata.managedFields records who set what. The diff
    behind it walks every field of both objects: for a large object (an 80,000-key
    ConfigMap took ~1.5 s) it runs on a worker thread, so the event loop keeps serving.
    `new` is this write's own object and `old` is only read."""
    record = functools.partial(managed_fields.record_write, resource, new, old, operation=operation,
                               options=options, subresource=subresource, now=now_rfc3339())
    if _smaller_than(new, OFF_LOOP_FIELDS) and (old is None or _smaller_than(old, OFF_LOOP_FIELDS)):
        record()
    else:
        await asyncio.get_running_loop().run_in_executor(_FIELD_RECORDERS, record)


# Objects with more fields than this have their managed fields computed off the event loop.
OFF_LOOP_FIELDS = 2000
_FIELD_RECORDERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="managed-fields")


def _smaller_than(obj, limit: int) -> bool:
    """Whether obj has fewer than `limit` keys and items in all, counting at most `limit` of them."""
    stack, seen = [obj], 0
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            seen += len(x)
            stack.extend(v for v in x.values() if isinstance(v, (dict, list)))
        elif isinstance(x, list):
            seen += len(x)
            stack.extend(v for v in x if isinstance(v, (dict, list)))
        if seen >= limit:
            return False
    return True


async def _guard(aw):
    """Storage outages become 503s (readyz reports them too); a value the backend
    refuses for its size, 413."""
    try:
        return await aw
    except UnavailableError as e:
        raise errors.service_unavailable(f"storage is unavailable: {e}") from None
    except ValueTooLargeError as e:
        raise errors.request_entity_too_large(str(e)) from None
