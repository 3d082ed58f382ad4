"""Endpoints follow the pods a Service selects (core/v1 Endpoints, one per Service)."""
from __future__ import annotations

from kubeclient import ApiError, split_key
from kubeclient.resources import ENDPOINTS, PODS, SERVICES

from .base import Controller
from .selectors import matches_labels
from .servicepods import endpoint_subsets


class ServiceIndex(Controller):
    """Shared wiring: a pod change queues the Services in its namespace that select it."""

    def setup(self) -> None:
        self.services = self.ctx.informers.informer(SERVICES)
        self.pods = self.ctx.informers.informer(PODS)
        self.services.add_handler(*self.enqueue_handlers())
        self.pods.add_handler(self._pod_changed, lambda old, new: self._pod_changed(new, old), self._pod_changed)

    def _pod_changed(self, pod: dict, old: dict | None = None) -> None:
        ns = pod["metadata"].get("namespace")
        label_sets = [pod["metadata"].get("labels")]
        if old is not None:
            if old is pod:
                return  # resync of an unchanged pod: services get their own resync
            label_sets.append(old["metadata"].get("labels"))
        for svc in self.services.list(ns):
            selector = (svc.get("spec") or {}).get("selector")
            if any(matches_labels(selector, labels) for labels in label_sets):
                self.enqueue(svc)


class EndpointsController(ServiceIndex):
    name = "endpoint"
    workers = 4

    def setup(self) -> None:
        super().setup()
        self.endpoints = self.ctx.informers.informer(ENDPOINTS)
        self.endpoints.add_handler(on_delete=lambda ep: self.queue.add(f"{ep['metadata']['namespace']}/"
                                                                        f"{ep['metadata']['name']}"))

    async def sync(self, key: str) -> None:
        ns, name = split_key(key)
        svc = self.services.get(key)
        current = self.endpoints.get(key)
        if svc is None:
            if current is not None:
                try:
                    await self.client.delete(ENDPOINTS, name, ns)
                except ApiError as e:
                    if not e.not_found:
                        raise
            return
        if not (svc.get("spec") or {}).get("selector"):
            return  # Endpoints of selector-less Services are the user's to write
        subsets = endpoint_subsets(svc, self.pods.list(ns))
        labels = dict(svc["metadata"].get("labels") or {})
        if (svc.get("spec") or {}).get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        if current is None:
            body = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns,
                                                                          "labels": labels}, "subsets": subsets}
            try:
                self.endpoints.assume(await self.client.create(ENDPOINTS, body, ns))
            except ApiError as e:
                if not e.already_exists:
                    raise
                self.queue.add_after(key, 0.1)  # our cache is behind: look again
            return
        if (current.get("subsets") or []) == subsets and (current["metadata"].get("labels") or {}) == labels:
            return
        updated = dict(current, subsets=subsets)
        updated["metadata"] = dict(current["metadata"], labels=labels)
        self.endpoints.assume(await self.client.update(ENDPOINTS, updated, ns))
