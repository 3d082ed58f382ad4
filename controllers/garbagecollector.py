"""The garbage collector: honours ownerReferences for every resource.

It watches every listable resource that discovery reports and keeps a graph of
who owns whom (by uid). Work items are uids; processing one does whichever of
these applies:
- the object is being deleted with the `orphan` finalizer: strip its uid from
  its dependents' ownerReferences, then drop the finalizer;
- it is being deleted with `foregroundDeletion`: delete its dependents, and
  drop the finalizer once no dependent with blockOwnerDeletion is left;
- it has owners: if none of them exists any more (checked against the API when
  the graph does not know them), delete it; if only some are gone, remove the
  dangling references.
Background deletion needs nothing special: the owner disappears, its dependents
are queued and found ownerless.

Kinds served later (custom resources) are found by rediscovery, every 30 s and
at once when a CustomResourceDefinition changes; objects whose owners are of a
kind just found are checked again then (their owners may be gone already).
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from kubeclient import ApiError, Resource
from kubeclient.discovery import discover, kind_map

from .base import Controller

log = logging.getLogger(__name__)
ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
# Not worth a watch: events never own anything and are the busiest resource.
IGNORED = {("", "events"), ("events.k8s.io", "events")}
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")


class Node:
    __slots__ = ("uid", "res", "namespace", "name", "owners", "deleting", "finalizers", "rv")

    def __init__(self, res: Resource, obj: dict):
        m = obj["metadata"]
        self.uid, self.res, self.namespace, self.name = m["uid"], res, m.get("namespace"), m["name"]
        self.owners = list(m.get("ownerReferences") or [])
        self.deleting = bool(m.get("deletionTimestamp"))
        self.finalizers = list(m.get("finalizers") or [])
        self.rv = m.get("resourceVersion")


class Graph:
    """uid -> Node, and owner uid -> dependent uids (owners may be unknown)."""

    def __init__(self, absent_size: int = 65536):
        self.nodes: dict[str, Node] = {}
        self.dependents: dict[str, set[str]] = {}
        # uids whose deletion a watch reported, newest last: a uid never comes back, so an owner
        # found here is gone without asking the API (upstream's absentOwnerCache). Deleting a
        # namespace of 300 pods otherwise cost a GET of their ReplicaSet per pod.
        self.absent: OrderedDict[str, None] = OrderedDict()
        self._absent_size = absent_size

    def deleted(self, uid: str) -> Node | None:
        """The object is gone for good: drop it and remember its uid as absent."""
        if uid:
            self.absent[uid] = None
            self.absent.move_to_end(uid)
            if len(self.absent) > self._absent_size:
                self.absent.popitem(last=False)
        return self.remove(uid)

    def upsert(self, node: Node) -> Node | None:
        self.absent.pop(node.uid, None)  # seen alive after all (a late event): never trust absence over it
        old = self.nodes.get(node.uid)
        if old:
            for ref in old.owners:
                self.dependents.get(ref.get("uid"), set()).discard(node.uid)
        self.nodes[node.uid] = node
        for ref in node.owners:
            self.dependents.setdefault(ref.get("uid"), set()).add(node.uid)
        return old

    def remove(self, uid: str) -> Node | None:
        node = self.nodes.pop(uid, None)
        if node:
            for ref in node.owners:
                deps = self.dependents.get(ref.get("uid"))
                if deps is not None:
                    deps.discard(uid)
                    if not deps and ref.get("uid") not in self.nodes:
                        self.dependents.pop(ref.get("uid"), None)
        return node

    def dependents_of(self, uid: str) -> list[Node]:
        return [self.nodes[d] for d in self.dependents.get(uid, ()) if d in self.nodes]


class GarbageCollector(Controller):
    name = "garbagecollector"
    workers = 4
    rediscovery_period = 30.0

    def setup(self) -> None:
        self.graph = Graph()
        self.kinds: dict[tuple[str, str], Resource] = {}
        self.watched: set[Resource] = set()
        self._rediscover = asyncio.Event()

    async def _discover(self) -> None:
        found = await discover(self.client)
        known = set(self.kinds)
        self.kinds.update(kind_map(found))
        new = set(self.kinds) - known
        if known and new:
            for node in list(self.graph.nodes.values()):
                if any((r.get("apiVersion"), r.get("kind")) in new for r in node.owners):
                    self.queue.add(node.uid)
        for ar in found:
            res = ar.resource
            if (res.group, res.plural) in IGNORED or res in self.watched:
                continue
            if not {"list", "watch", "delete"} <= ar.verbs:
                continue
            self.watched.add(res)
            inf = self.ctx.informers.informer(res)
            inf.add_handler(lambda o, r=res: self._changed(r, o), lambda old, new, r=res: self._changed(r, new, old),
                            lambda o, r=res: self._deleted(o))
        self.ctx.informers.start()

    def _changed(self, res: Resource, obj: dict, old: dict | None = None) -> None:
        if old is obj:
            return  # resync
        if (res.group, res.plural) == CRDS:
            self._rediscover.set()   # its kinds are served (or gone) soon: look again
        node = Node(res, obj)
        prev = self.graph.upsert(node)
        if node.owners and (prev is None or prev.owners != node.owners):
            self.queue.add(node.uid)
        if node.deleting and (ORPHAN in node.finalizers or FOREGROUND in node.finalizers):
            self.queue.add(node.uid)

    def _deleted(self, obj: dict) -> None:
        uid = obj["metadata"].get("uid")
        node = self.graph.deleted(uid)
        for dep in self.graph.dependents.get(uid, ()):  # they may have lost their last owner
            self.queue.add(dep)
        for ref in (node.owners if node else []):  # an owner may be waiting for this one
            owner = self.graph.nodes.get(ref.get("uid"))
            if owner and owner.deleting:
                self.queue.add(owner.uid)

    async def run(self) -> None:
        while True:  # discovery must work before anything else can
            try:
                await self._discover()
                break
            except ApiError as e:
                log.warning("garbage collector discovery failed: %s", e)
                await asyncio.sleep(2)
        await super().run()

    async def background(self) -> None:
        while True:  # pick up resources served later (custom resources)
            try:
                await asyncio.wait_for(self._rediscover.wait(), self.rediscovery_period)
            except asyncio.TimeoutError:
                pass
            self._rediscover.clear()
            try:
                await self._discover()
            except ApiError as e:
                log.debug("rediscovery failed: %s", e)

    # --- processing one uid --------------------------------------------------------------
    async def sync(self, uid: str) -> None:
        node = self.graph.nodes.get(uid)
        if node is None:
            return
        if node.deleting and ORPHAN in node.finalizers:
            await self._orphan_dependents(node)
            return
        if node.deleting and FOREGROUND in node.finalizers:
            await self._delete_dependents(node)
        if node.owners:
            await self._check_owners(node)

    async def _owner_exists(self, node: Node, ref: dict) -> bool:
        owner = self.graph.nodes.get(ref.get("uid"))
        if owner is not None:
            return True
        if ref.get("uid") in self.graph.absent:
            return False
        res = self.kinds.get((ref.get("apiVersion"), ref.get("kind")))
        if res is None:
            return True  # a kind we cannot look up: do not guess that it is gone
        try:
            live = await self.client.get(res, ref["name"], node.namespace if res.namespaced else None)
        except ApiError as e:
            if e.not_found:
                return False
            raise
        return live["metadata"].get("uid") == ref.get("uid")

    async def _check_owners(self, node: Node) -> None:
        gone = [ref for ref in node.owners if not await self._owner_exists(node, ref)]
        if not gone:
            return
        if len(gone) == len(node.owners):
            if node.deleting:
                return
            # its dependents follow it the same way (foreground if it had an owner waiting for it)
            log.info("deleting %s %s/%s: its owners are gone", node.res.plural, node.namespace, node.name)
            await self._delete(node, "Background")
            return
        keep = [r for r in node.owners if r not in gone]
        await self._patch_owners(node, keep)

    async def _delete_dependents(self, owner: Node) -> None:
        blocking = 0
        for dep in self.graph.dependents_of(owner.uid):
            refs = [r for r in dep.owners if r.get("uid") == owner.uid]
            if any(r.get("blockOwnerDeletion") for r in refs):
                blocking += 1
            if not dep.deleting:
                # a dependent that owns things itself is deleted in the foreground too
                policy = "Foreground" if self.graph.dependents.get(dep.uid) else "Background"
                await self._delete(dep, policy)
        if blocking == 0:
            await self._remove_finalizer(owner, FOREGROUND)

    async def _orphan_dependents(self, owner: Node) -> None:
        for dep in self.graph.dependents_of(owner.uid):
            await self._patch_owners(dep, [r for r in dep.owners if r.get("uid") != owner.uid])
        await self._remove_finalizer(owner, ORPHAN)

    # --- writes ------------------------------------------------------------------------
    async def _delete(self, node: Node, policy: str) -> None:
        try:
            await self.client.delete(node.res, node.name, node.namespace, propagation_policy=policy,
                                     preconditions={"uid": node.uid})
        except ApiError as e:
            if not (e.not_found or e.conflict):
                raise

    async def _patch_owners(self, node: Node, refs: list[dict]) -> None:
        patch = {"metadata": {"ownerReferences": refs or None, "uid": node.uid}}
        try:
            await self.client.patch(node.res, node.name, patch, node.namespace)
        except ApiError as e:
            if not e.not_found:
                raise

    async def _remove_finalizer(self, node: Node, finalizer: str) -> None:
        try:
            live = await self.client.get(node.res, node.name, node.namespace)
        except ApiError as e:
            if e.not_found:
                return
            raise
        fins = live["metadata"].get("finalizers") or []
        if finalizer not in fins:
            return
        patch = {"metadata": {"finalizers": [f for f in fins if f != finalizer] or None,
                              "resourceVersion": live["metadata"]["resourceVersion"]}}
        await self.client.patch(node.res, node.name, patch, node.namespace)  # 409 -> retried by the queue
