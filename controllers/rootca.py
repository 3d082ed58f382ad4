"""Publishes the cluster CA as ConfigMap `kube-root-ca.crt` in every namespace,
so pods can verify the API server; recreated if deleted, restored if edited."""
from __future__ import annotations


from kubeclient import ApiError
from kubeclient.resources import CONFIGMAPS, NAMESPACES

from .base import Controller
from .serviceaccount import namespace_active

CONFIGMAP = "kube-root-ca.crt"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
               "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
               "guaranteed across distributions of Kubernetes clusters.")


class RootCAPublisher(Controller):
    name = "root-ca-cert-publisher"

    def setup(self) -> None:
        path = self.ctx.options.root_ca_file
        if path:
            with open(path) as f:
                self.ca = f.read()
        else:
            self.ca = self.client.config.ca_pem or ""
        self.namespaces = self.ctx.informers.informer(NAMESPACES)
        self.configmaps = self.ctx.informers.informer(CONFIGMAPS)
        self.namespaces.add_handler(self.enqueue, lambda old, new: self.enqueue(new))
        self.configmaps.add_handler(self._cm_changed, lambda old, new: self._cm_changed(new), self._cm_changed)

    def _cm_changed(self, cm: dict) -> None:
        if cm["metadata"]["name"] == CONFIGMAP:
            self.queue.add(cm["metadata"]["namespace"])

    async def sync(self, key: str) -> None:
        if not self.ca or not namespace_active(self.namespaces.get(key)):
            return
        cm = self.configmaps.get(f"{key}/{CONFIGMAP}")
        data = {"ca.crt": self.ca}
        try:
            if cm is None:
                await self.client.create(CONFIGMAPS, {
                    "apiVersion": "v1", "kind": "ConfigMap", "data": data,
                    "metadata": {"name": CONFIGMAP, "namespace": key,
                                 "annotations": {"kubernetes.io/description": DESCRIPTION}}}, key)
            elif cm.get("data") != data or cm.get("binaryData"):
                cm = dict(cm, data=data)
                cm.pop("binaryData", None)
                await self.client.update(CONFIGMAPS, cm, key)
        except ApiError as e:
            if not (e.already_exists or e.code == 403):
                raise


