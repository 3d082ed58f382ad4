"""Every active namespace has a `default` ServiceAccount; recreated if deleted."""
from __future__ import annotations

from kubeclient import ApiError
from kubeclient.resources import NAMESPACES, SERVICEACCOUNTS

from .base import Controller

DEFAULT_SA = "default"


def namespace_active(ns: dict | None) -> bool:
    return bool(ns) and not ns["metadata"].get("deletionTimestamp") and \
        (ns.get("status") or {}).get("phase") != "Terminating"


class ServiceAccountController(Controller):
    name = "serviceaccount"

    def setup(self) -> None:
        self.namespaces = self.ctx.informers.informer(NAMESPACES)
        self.accounts = self.ctx.informers.informer(SERVICEACCOUNTS)
        self.namespaces.add_handler(self.enqueue, lambda old, new: self.enqueue(new))
        self.accounts.add_handler(on_delete=self._account_deleted)

    def _account_deleted(self, sa: dict) -> None:
        if sa["metadata"]["name"] == DEFAULT_SA:
            self.queue.add(sa["metadata"]["namespace"])

    async def sync(self, key: str) -> None:
        if not namespace_active(self.namespaces.get(key)) or self.accounts.get(f"{key}/{DEFAULT_SA}"):
            return
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": DEFAULT_SA, "namespace": key}}
        try:
            await self.client.create(SERVICEACCOUNTS, body, key)
        except ApiError as e:
            if not (e.already_exists or e.code == 403):  # 403: the namespace began terminating
                raise
