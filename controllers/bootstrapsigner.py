"""bootstrapsigner: signs kube-public/cluster-info with every bootstrap token allowed to
(usage-bootstrap-signing, unexpired), as kube-controller-manager's bootstrap signer does:
a `jws-kubeconfig-<token-id>` key per token (kubeclient/bootstraptokens.py), signatures of
tokens deleted or expired removed. `pocketkube join` checks its token's signature."""
from __future__ import annotations

import asyncio
import datetime as dt

from kubeclient.bootstraptokens import CLUSTER_INFO, NAMESPACE, signed_cluster_info, signing_tokens
from kubeclient.resources import CONFIGMAPS, SECRETS

from .base import Controller

KEY = "/".join(CLUSTER_INFO)
EXPIRY_CHECK_PERIOD = 60.0


class BootstrapSigner(Controller):
    name = "bootstrapsigner"

    def setup(self) -> None:
        self.configmaps = self.ctx.informers.informer(CONFIGMAPS, CLUSTER_INFO[0])
        self.secrets = self.ctx.informers.informer(SECRETS, NAMESPACE)
        for informer in (self.configmaps, self.secrets):
            informer.add_handler(self._changed, lambda old, new: self._changed(new), self._changed)

    def _changed(self, _obj: dict) -> None:
        self.queue.add(KEY)

    async def background(self) -> None:
        # a token's expiry changes nothing the informers see: look again now and then
        while True:
            await asyncio.sleep(EXPIRY_CHECK_PERIOD)
            self.queue.add(KEY)

    async def sync(self, key: str) -> None:
        cm = self.configmaps.get(KEY)
        if cm is None:
            return
        data = dict(cm.get("data") or {})
        wanted = signed_cluster_info(data, signing_tokens(self.secrets.list(), dt.datetime.now(dt.timezone.utc)))
        if wanted != data:
            await self.client.update(CONFIGMAPS, dict(cm, data=wanted), CLUSTER_INFO[0])
